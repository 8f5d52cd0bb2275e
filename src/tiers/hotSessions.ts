// Pure: the session list heads and unread counters of the hot tier (DESIGN.md §4, §6). The heads,
// read marks, settings and frozen rows come from the sessions projection's own fold
// (foldSessionsBatch), so hot and warm cannot disagree on them. Unread is kept as the list of the
// seqs each row counts (messages from others, sent while a member, above the read mark, not
// recalled): a recall removes its seq, a read mark drops the seqs at or below it. That is exact
// without the message index and membership periods the warm projection recounts from.
//
// What the hot tier cannot keep cheaply is marked unknown (`unread: null`) and read from warm:
// rows of a conversation while it is read fan-out (above FANOUT_LIMIT: one row update per member per
// message is what read fan-out avoids), rows that held more than HOT_UNREAD_CAP unread seqs, and rows
// that were unknown when their conversation went back to write mode. A read up to the head makes a
// row known again (its unread is then 0 exactly).
import type { OrderedFact } from '../projections/fold/batchFacts.js';
import { createMembershipTracker, membershipEffectOf, membershipNeedsOf, needsAllMembers, type FanoutMode, type TrackedConversation } from '../projections/fold/membershipFold.js';
import { foldSessionsBatch, rowKey, type SessionConversation, type SessionMemberRow } from '../projections/sessions/sessionsFold.js';

/** Most unread seqs a hot row keeps; above it the row's unread is unknown to hot (read from warm). */
export const HOT_UNREAD_CAP = 1_000;

export interface HotConversationState {
  heads: SessionConversation;
  memberCount: number;
  mode: FanoutMode | null;
}

/** A session row in the hot tier: the sessions fold's row, with the unread seqs (null: unknown here). */
export type HotSessionRow = Omit<SessionMemberRow, 'isNew'> & { unread: number[] | null };

/** conversation → user → fromSeq of their open period, or null for a departed user who keeps a row. */
export type HotMembers = Map<string, Map<string, number | null>>;

export interface HotSessionWrites {
  conversations: HotConversationState[];
  members: Array<{ conversationId: string; userId: string; fromSeq: number | null }>;
  rows: HotSessionRow[];
}

export const noSessionWrites = (): HotSessionWrites => ({ conversations: [], members: [], rows: [] });

/** What a batch must load besides the conversation states: members and rows. */
export interface HotSessionLoadPlan {
  /** Conversations whose every participant (and their rows) must be loaded: they fan out in write mode. */
  allMembersOf: string[];
  /** Single users whose membership must be known (membership events in read-mode conversations). */
  namedMembers: Array<{ conversationId: string; userId: string }>;
  /** Rows to load besides the participants of allMembersOf. */
  rows: Array<{ userId: string; conversationId: string }>;
}

const conversationFacts = (ordered: readonly OrderedFact[]) => ordered.flatMap((e) => (e.stream === 'conversation' ? [e.fact] : []));

/** Which conversations are needed first (their mode decides the rest of the plan). */
export function sessionConversationIds(ordered: readonly OrderedFact[]): string[] {
  return [...new Set(ordered.map((e) => e.fact.conversationId))];
}

export function sessionLoadPlan(ordered: readonly OrderedFact[], conversations: ReadonlyMap<string, HotConversationState>, fanoutLimit: number): HotSessionLoadPlan {
  const facts = conversationFacts(ordered);
  const needs = membershipNeedsOf(facts);
  const all = new Set<string>();
  for (const c of new Set(facts.map((f) => f.conversationId))) {
    const stored = conversations.get(c);
    if (needsAllMembers({ memberCount: stored?.memberCount ?? 0, mode: stored?.mode ?? null }, needs.departures.get(c) ?? 0, fanoutLimit)) all.add(c);
  }
  const namedMembers: HotSessionLoadPlan['namedMembers'] = [];
  for (const [c, users] of needs.users) if (!all.has(c)) for (const u of users) namedMembers.push({ conversationId: c, userId: u });
  const rows = new Map<string, { userId: string; conversationId: string }>();
  for (const e of ordered) {
    if (e.stream === 'user') rows.set(rowKey(e.fact.userId, e.fact.conversationId), { userId: e.fact.userId, conversationId: e.fact.conversationId });
    else {
      const effect = membershipEffectOf(e.fact);
      for (const u of [...effect.joins, ...effect.departs]) rows.set(rowKey(u, e.fact.conversationId), { userId: u, conversationId: e.fact.conversationId });
    }
  }
  return { allMembersOf: [...all], namedMembers, rows: [...rows.values()] };
}

export interface HotSessionsInput {
  ordered: readonly OrderedFact[];
  conversations: ReadonlyMap<string, HotConversationState>;
  members: HotMembers;
  /** Loaded rows by rowKey. */
  rows: ReadonlyMap<string, HotSessionRow>;
  /** Conversations whose members were loaded completely (the plan's allMembersOf). */
  complete: ReadonlySet<string>;
  fanoutLimit: number;
}

function trackedOf(input: HotSessionsInput): TrackedConversation[] {
  const tracked: TrackedConversation[] = [];
  for (const c of new Set(conversationFacts(input.ordered).map((f) => f.conversationId))) {
    const stored = input.conversations.get(c);
    if (!stored) continue; // unseen: the tracker starts it empty and complete
    const open = new Map<string, number>();
    for (const [u, fromSeq] of input.members.get(c) ?? []) if (fromSeq !== null) open.set(u, fromSeq);
    tracked.push({ conversationId: c, memberCount: stored.memberCount, mode: stored.mode, open, complete: input.complete.has(c) });
  }
  return tracked;
}

const sameRow = (a: HotSessionRow | undefined, b: HotSessionRow): boolean => a !== undefined && JSON.stringify(a) === JSON.stringify(b);

/** Folds one batch into the writes the hot tier applies together with its checkpoint. */
export function foldHotSessions(input: HotSessionsInput): HotSessionWrites {
  const { ordered, fanoutLimit } = input;
  const startModes = new Map<string, FanoutMode>();
  for (const [c, s] of input.conversations) if (s.mode) startModes.set(c, s.mode);
  const storedRows = new Map<string, SessionMemberRow>();
  for (const [key, { unread: _unread, ...row }] of input.rows) storedRows.set(key, { ...row, isNew: false });

  // Heads, marks, settings and frozen rows: exactly the warm projection's fold.
  const headsTracker = createMembershipTracker(trackedOf(input), fanoutLimit);
  const folded = foldSessionsBatch({
    ordered,
    conversations: new Map([...input.conversations].map(([c, s]) => [c, s.heads])),
    rows: storedRows,
    startModes,
    tracker: headsTracker,
  });

  // Unread seqs, walked in the same order with a second tracker over the same loaded membership.
  const tracker = createMembershipTracker(trackedOf(input), fanoutLimit);
  const unread = new Map<string, number[] | null>();
  for (const [key, row] of input.rows) unread.set(key, row.unread ? [...row.unread] : null);
  const lastSeq = new Map<string, number>();
  for (const [c, s] of input.conversations) lastSeq.set(c, s.heads.lastSeq);
  /** The fan-out mode in force at each point of the walk. */
  const modes = new Map<string, FanoutMode | null>();
  for (const [c, s] of input.conversations) modes.set(c, s.mode);
  const marks = new Map<string, number>();
  for (const [key, row] of input.rows) marks.set(key, row.lastReadSeq);
  const participants = new Map<string, Set<string>>();
  for (const [c, users] of input.members) participants.set(c, new Set(users.keys()));
  const memberWrites = new Map<string, { conversationId: string; userId: string; fromSeq: number | null }>();

  const ensure = (u: string, c: string): string => {
    const key = rowKey(u, c);
    if (!unread.has(key)) unread.set(key, []);
    return key;
  };
  const participantsOf = (c: string): Set<string> => {
    let set = participants.get(c);
    if (!set) participants.set(c, (set = new Set()));
    return set;
  };

  for (const entry of ordered) {
    if (entry.stream === 'user') {
      const { fact } = entry;
      const key = ensure(fact.userId, fact.conversationId);
      if (fact.type !== 'ConversationRead') continue;
      // The same clamp and monotonicity as foldSessionsBatch.
      const asked = typeof fact.data.seq === 'number' ? fact.data.seq : 0;
      const head = lastSeq.get(fact.conversationId);
      const mark = Math.max(marks.get(key) ?? 0, head !== undefined ? Math.min(asked, head) : asked);
      marks.set(key, mark);
      const seqs = unread.get(key)!;
      if (seqs) unread.set(key, seqs.filter((s) => s > mark));
      // Nothing can be above the head; and from here on write fan-out counts every new message.
      else if (head !== undefined && mark >= head && modes.get(fact.conversationId) === 'write') unread.set(key, []);
      continue;
    }
    const { fact } = entry;
    const c = fact.conversationId;
    lastSeq.set(c, fact.seq);
    const step = tracker.apply(fact);
    modes.set(c, step.mode);
    if (step.modeChanged && step.mode === 'read') for (const u of participantsOf(c)) unread.set(rowKey(u, c), null);
    for (const u of step.joined) {
      participantsOf(c).add(u);
      const key = ensure(u, c);
      if (step.mode === 'read') unread.set(key, null);
      memberWrites.set(key, { conversationId: c, userId: u, fromSeq: fact.seq });
    }
    for (const u of step.departed) memberWrites.set(rowKey(u, c), { conversationId: c, userId: u, fromSeq: null });
    if (fact.type === 'MessageSent' && step.mode === 'write') {
      const sender = String(fact.data.senderId);
      for (const u of tracker.members(c)) {
        if (u === sender) continue;
        const key = ensure(u, c);
        const seqs = unread.get(key)!;
        if (!seqs) continue;
        seqs.push(fact.seq);
        if (seqs.length > HOT_UNREAD_CAP) unread.set(key, null);
      }
    } else if (fact.type === 'MessageRecalled' && typeof fact.data.seq === 'number') {
      const target = fact.data.seq;
      // Only rows that counted it hold the seq; in read mode every row is unknown anyway.
      for (const u of participantsOf(c)) {
        const seqs = unread.get(rowKey(u, c));
        if (seqs) unread.set(rowKey(u, c), seqs.filter((s) => s !== target));
      }
    }
  }

  const foldedRows = new Map(folded.rows.map((r) => [rowKey(r.userId, r.conversationId), r]));
  const rows: HotSessionRow[] = [];
  for (const [key, seqs] of unread) {
    const base = foldedRows.get(key) ?? storedRows.get(key);
    if (!base) throw new Error(`hot sessions: no row for ${key.replace('\u0000', '/')}`);
    const { isNew: _isNew, ...fields } = base;
    const row: HotSessionRow = { ...fields, unread: seqs };
    if (!sameRow(input.rows.get(key), row)) rows.push(row);
  }
  return {
    conversations: folded.conversations.map((heads) => ({
      heads,
      memberCount: headsTracker.get(heads.conversationId).memberCount,
      mode: folded.endModes.get(heads.conversationId) ?? null,
    })),
    members: [...memberWrites.values()],
    rows,
  };
}
