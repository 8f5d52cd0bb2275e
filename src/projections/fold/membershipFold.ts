// Pure membership bookkeeping shared by the inbox and sessions projections: who is a member of a
// conversation at each seq (membership periods), how many members it has, and its fan-out mode.
// Each projection keeps this state in its own schema; this module is the one fold over it.
import { ProjectionStateError } from '../errors.js';
import type { ConversationFact } from './eventFacts.js';

export type FanoutMode = 'write' | 'read';

/** Write fan-out up to the limit, read fan-out above it (DESIGN.md §4). */
export const fanoutModeFor = (memberCount: number, fanoutLimit: number): FanoutMode => (memberCount > fanoutLimit ? 'read' : 'write');

/** Who an event brings in and who it lets go. */
export interface MembershipEffect {
  joins: string[];
  departs: string[];
}

const stringsIn = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

export function membershipEffectOf(fact: Pick<ConversationFact, 'type' | 'data'>): MembershipEffect {
  const { data } = fact;
  switch (fact.type) {
    case 'DirectConversationOpened':
      return { joins: stringsIn(data.memberIds), departs: [] };
    case 'GroupCreated': {
      const owner = typeof data.ownerId === 'string' ? [data.ownerId] : [];
      return { joins: [...new Set([...owner, ...stringsIn(data.memberIds)])], departs: [] };
    }
    case 'MembersAdded':
      return { joins: [...new Set(stringsIn(data.userIds))], departs: [] };
    case 'MemberRemoved':
    case 'MemberLeft':
      return { joins: [], departs: typeof data.userId === 'string' ? [data.userId] : [] };
    default:
      return { joins: [], departs: [] };
  }
}

/** A conversation's membership state as loaded for one batch. */
export interface TrackedConversation {
  conversationId: string;
  memberCount: number;
  /** null: the projection has not seen this conversation yet. */
  mode: FanoutMode | null;
  /** Open periods known to this batch: user → fromSeq. Every current member when `complete`. */
  open: Map<string, number>;
  /** Whether `open` holds every current member (needed to fan out in write mode). */
  complete: boolean;
}

/** A period row to upsert, keyed by (conversationId, userId, fromSeq). */
export interface PeriodRow {
  conversationId: string;
  userId: string;
  fromSeq: number;
  toSeq: number | null;
}

export interface ModeRow {
  conversationId: string;
  fromSeq: number;
  mode: FanoutMode;
}

/** What one conversation event did to membership. */
export interface MembershipStep {
  joined: string[];
  departed: string[];
  /** Mode after the event, which governs the event's own seq. */
  mode: FanoutMode;
  modeChanged: boolean;
}

export interface MembershipTracker {
  /** Applies one conversation event (in stream order); every event of the batch goes through here. */
  apply(fact: ConversationFact): MembershipStep;
  get(conversationId: string): TrackedConversation;
  /** Current members (complete conversations only; throws otherwise: the loader must have loaded them). */
  members(conversationId: string): string[];
  isMember(conversationId: string, userId: string): boolean;
  periodRows(): PeriodRow[];
  modeRows(): ModeRow[];
  /** Conversations touched by the batch, with their final count and mode. */
  touched(): TrackedConversation[];
}

export function createMembershipTracker(loaded: Iterable<TrackedConversation>, fanoutLimit: number): MembershipTracker {
  const conversations = new Map<string, TrackedConversation>();
  for (const c of loaded) conversations.set(c.conversationId, c);
  const periods = new Map<string, PeriodRow>();
  const modes: ModeRow[] = [];
  const touched = new Set<string>();

  const get = (conversationId: string): TrackedConversation => {
    let c = conversations.get(conversationId);
    if (!c) {
      c = { conversationId, memberCount: 0, mode: null, open: new Map(), complete: true };
      conversations.set(conversationId, c);
    }
    return c;
  };

  const putPeriod = (row: PeriodRow) => periods.set(`${row.conversationId}\u0000${row.userId}\u0000${row.fromSeq}`, row);

  return {
    apply(fact) {
      const c = get(fact.conversationId);
      touched.add(c.conversationId);
      const effect = membershipEffectOf(fact);
      const joined = effect.joins.filter((u) => !c.open.has(u));
      for (const userId of joined) {
        c.open.set(userId, fact.seq);
        putPeriod({ conversationId: c.conversationId, userId, fromSeq: fact.seq, toSeq: null });
      }
      const departed = effect.departs.filter((u) => c.open.has(u));
      for (const userId of departed) {
        putPeriod({ conversationId: c.conversationId, userId, fromSeq: c.open.get(userId)!, toSeq: fact.seq });
        c.open.delete(userId);
      }
      c.memberCount += joined.length - departed.length;
      const mode = fanoutModeFor(c.memberCount, fanoutLimit);
      const modeChanged = mode !== c.mode;
      if (modeChanged) {
        modes.push({ conversationId: c.conversationId, fromSeq: fact.seq, mode });
        c.mode = mode;
      }
      return { joined, departed, mode, modeChanged };
    },
    get,
    members(conversationId) {
      const c = get(conversationId);
      if (!c.complete) throw new ProjectionStateError(`Members of ${conversationId} were not loaded for this batch`);
      return [...c.open.keys()];
    },
    isMember: (conversationId, userId) => get(conversationId).open.has(userId),
    periodRows: () => [...periods.values()],
    modeRows: () => modes,
    touched: () => [...touched].map(get),
  };
}

/** What a batch needs loaded about membership, per conversation. */
export interface MembershipNeeds {
  /** Users named by membership events (their open periods must be known). */
  users: Map<string, Set<string>>;
  /** Departures per conversation (a large group may shrink into write mode within the batch). */
  departures: Map<string, number>;
}

export function membershipNeedsOf(facts: readonly ConversationFact[]): MembershipNeeds {
  const users = new Map<string, Set<string>>();
  const departures = new Map<string, number>();
  for (const fact of facts) {
    const effect = membershipEffectOf(fact);
    if (effect.joins.length + effect.departs.length === 0) continue;
    const set = users.get(fact.conversationId) ?? new Set<string>();
    for (const u of [...effect.joins, ...effect.departs]) set.add(u);
    users.set(fact.conversationId, set);
    if (effect.departs.length > 0) departures.set(fact.conversationId, (departures.get(fact.conversationId) ?? 0) + effect.departs.length);
  }
  return { users, departures };
}

/**
 * Whether a batch must load every member of a conversation: it fans out in write mode now, or it may
 * shrink into write mode within the batch.
 */
export function needsAllMembers(state: { memberCount: number; mode: FanoutMode | null }, departures: number, fanoutLimit: number): boolean {
  if (state.mode === null || state.mode === 'write') return true;
  return state.memberCount - departures <= fanoutLimit;
}
