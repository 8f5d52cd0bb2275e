// The tunable limits the deciders enforce. They arrive as a value (from the validated config) so the
// domain stays pure and tests can shrink them; DEFAULT_LIMITS are the production defaults.

export interface DomainLimits {
  /** How long after sending the sender may edit a message. */
  readonly editWindowMs: number;
  /** How long after sending a message may be recalled. */
  readonly recallWindowMs: number;
  /** Members of one group, owner included. */
  readonly maxGroupMembers: number;
  /** Size of a message body serialised as JSON, in UTF-8 bytes. */
  readonly maxBodyBytes: number;
  /** Length of a group name after trimming, in Unicode code points. */
  readonly maxGroupNameLength: number;
  /** User ids in one CreateGroup or AddMembers command. */
  readonly maxMembersPerCommand: number;
  /** Messages a conversation state remembers for edit/recall decisions (older ones count as outside the window). */
  readonly maxRecentMessages: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export const DEFAULT_LIMITS: DomainLimits = Object.freeze({
  editWindowMs: DAY_MS,
  recallWindowMs: DAY_MS,
  maxGroupMembers: 100_000,
  maxBodyBytes: 16 * 1024,
  maxGroupNameLength: 128,
  maxMembersPerCommand: 10_000,
  maxRecentMessages: 10_000,
});

/** The defaults with some limits overridden (e.g. the subset the configuration sets). */
export const domainLimits = (overrides: Partial<DomainLimits> = {}): DomainLimits => Object.freeze({ ...DEFAULT_LIMITS, ...overrides });

/** How long a sent message must stay findable in a conversation state: the longer of the two windows. */
export const messageRetentionMs = (limits: Pick<DomainLimits, 'editWindowMs' | 'recallWindowMs'>): number =>
  Math.max(limits.editWindowMs, limits.recallWindowMs);
