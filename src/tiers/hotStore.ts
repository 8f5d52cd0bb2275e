// The hot tier's port (DESIGN.md §6): the recent items of each conversation, held in Redis or in
// process memory. Everything in it is derived from the log and can be lost at any time: the hot
// projection notices a missing state and rebuilds it (hotProjection.ts).
//
// Keys live under an epoch: a reset starts a new, empty epoch in one atomic step, so a rebuild never
// mixes with what an older build (or a worker that missed the reset) writes.
import type { TimelineItem } from '../projections/types.js';
import type { ItemPatch } from '../projections/fold/eventFacts.js';
import type { HistoryQuery } from './historyRange.js';
import type { HotConversationState, HotMembers, HotSessionLoadPlan, HotSessionRow, HotSessionWrites } from './hotSessions.js';

/** Where the hot projection stands: its epoch, the last global position applied, and whether it caught up once. */
export interface HotState {
  epoch: number;
  checkpoint: bigint;
  /** False while a (re)build has not yet reached the head of the log: readers skip the hot tier. */
  ready: boolean;
}

/** A change to one conversation's recent items, derived from one event (hotOps.ts). */
export type HotOp =
  | { op: 'put'; conversationId: string; seq: number; item: TimelineItem; atMs: number }
  | { op: 'patch'; conversationId: string; targetSeq: number; patch: ItemPatch };

/** The seqs the hot tier holds for a conversation: every seq from `lo` to `last`, nothing else. */
export interface HotWindow {
  lo: number;
  last: number;
}

export interface HotRead {
  ready: boolean;
  epoch: number;
  window: HotWindow | null;
}

export interface EvictOptions {
  /** Keep at most this many items per conversation. */
  maxItems: number;
  /** Evict items (and whole idle conversations) older than this time, ms since the epoch. */
  olderThanMs: number;
}

export interface EvictResult {
  itemsEvicted: number;
  conversationsDropped: number;
}

/** One user's session rows with their conversations' states, read in one step (one snapshot). */
export interface HotSessionsRead {
  ready: boolean;
  epoch: number;
  entries: Array<{ row: HotSessionRow; conversation: HotConversationState | null }>;
}

export interface HotStore {
  /** 'redis' or 'memory': for logs and the status output. */
  readonly kind: 'redis' | 'memory';
  /** null when the hot tier holds no state (never built, FLUSHALL, restart without persistence). */
  readState(): Promise<HotState | null>;
  /** Starts a new empty epoch at checkpoint 0 unless a state exists (or `force`); returns the state in force. */
  reset(options?: { force?: boolean }): Promise<HotState>;
  /**
   * Applies `ops` and moves the checkpoint from `expected` to `to`, atomically. False (and nothing
   * changed) when the state is not `expected` any more: another worker moved it, or it was lost.
   * `maxItems` trims each touched conversation to its newest items.
   */
  apply(expected: HotState, to: bigint, ops: readonly HotOp[], maxItems: number, sessions?: HotSessionWrites): Promise<boolean>;
  /** Session state of `epoch` for the hot projection's fold (hotSessions.ts); empty when the epoch is gone. */
  readSessionConversations(epoch: number, conversationIds: readonly string[]): Promise<Map<string, HotConversationState>>;
  readSessionMembers(epoch: number, plan: Pick<HotSessionLoadPlan, 'allMembersOf' | 'namedMembers'>): Promise<HotMembers>;
  /** Rows by rowKey (sessionsFold.ts). */
  readSessionRows(epoch: number, pairs: ReadonlyArray<{ userId: string; conversationId: string }>): Promise<Map<string, HotSessionRow>>;
  /** Every session row of a user with the states of their conversations, and whether the tier is ready. */
  readSessions(userId: string): Promise<HotSessionsRead>;
  /** Marks the epoch as caught up (readers may use it); false when the epoch is not current. */
  markReady(epoch: number): Promise<boolean>;
  /** The state and one conversation's window, in one read. */
  window(conversationId: string): Promise<HotRead>;
  /** The items with seq in [from, to] that `epoch` holds, ascending (none when the epoch is gone). */
  items(epoch: number, conversationId: string, from: number, to: number): Promise<TimelineItem[]>;
  /**
   * One history read in one step: the state, the window, and — when ready — the items of the page
   * `query` asks for (pageRange with the window's last seq as head) that the window holds.
   */
  page(conversationId: string, query: HistoryQuery): Promise<HotRead & { items: TimelineItem[] }>;
  /** Evicts items past age or count and drops conversations idle past age. */
  evict(options: EvictOptions): Promise<EvictResult>;
  close(): Promise<void>;
}

/** The item's own time in ms: sentAt for messages, at for system items. */
export const itemTimeMs = (item: TimelineItem): number => Date.parse(item.kind === 'system' ? item.at : item.sentAt);
