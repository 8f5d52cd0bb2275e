// The sync delta as it was read before it became one statement (commit b0411f8): ten round trips in a
// REPEATABLE READ transaction, merged in TypeScript. Kept unchanged as the reference the one-statement
// getDelta is compared with, pull for pull (oneStatement.int.spec.ts).
import pg from 'pg';
import { INBOX_SCHEMA } from '../../../src/projections/inbox/inboxProjection.js';
import { TIMELINE_SCHEMA } from '../../../src/projections/timeline/timelineProjection.js';
import { readCheckpoints } from '../../../src/projections/checkpoints.js';
import { InvalidQueryError, ResyncRequiredError } from '../../../src/projections/errors.js';
import { deliverableRanges, type SeqRange } from '../../../src/projections/fold/readRanges.js';
import type { FanoutMode } from '../../../src/projections/fold/membershipFold.js';
import { getAllSessionRows, getSessionRows, getUnread } from '../../../src/projections/sessions/sessionsQueries.js';
import { tableIn, type Queryable } from '../../../src/projections/shared/sql.js';
import { checkId, checkLimit } from '../../../src/projections/shared/validate.js';
import type { Delta, DeltaItem, SyncCursor, TimelineItem } from '../../../src/projections/types.js';
import { entryToDeltaItem, type EntryRecord } from '../../../src/projections/sync/getDelta.js';

/** The projections that serve sync; the cursor's epoch is the inbox's (inbox seqs belong to one build). */
export const SYNC_PROJECTIONS = ['inbox', 'timeline', 'sessions'] as const;

const ENTRIES = tableIn(INBOX_SCHEMA, 'entries');
const PERIODS = tableIn(INBOX_SCHEMA, 'member_periods');
const MODES = tableIn(INBOX_SCHEMA, 'fanout_modes');
const ITEMS = tableIn(TIMELINE_SCHEMA, 'items');
const OPEN_END = 2_147_483_647;

export interface SyncFence {
  /** Items at or below this global position are complete in every sync projection. */
  position: bigint;
  epoch: number;
}

export async function readSyncFence(db: Queryable): Promise<SyncFence> {
  const checkpoints = await readCheckpoints(db, SYNC_PROJECTIONS);
  const positions = SYNC_PROJECTIONS.map((name) => checkpoints.get(name)?.position ?? 0n);
  return { position: positions.reduce((a, b) => (b < a ? b : a)), epoch: checkpoints.get('inbox')?.epoch ?? 0 };
}

const isCounter = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function checkCursor(cursor: SyncCursor): SyncCursor {
  const groupsOk =
    cursor.groups !== null && typeof cursor.groups === 'object' && Object.values(cursor.groups as Record<string, unknown>).every(isCounter);
  if (!isCounter(cursor.inboxSeq) || !isCounter(cursor.epoch) || !groupsOk) throw new InvalidQueryError('cursor', 'Malformed sync cursor');
  return cursor;
}

/** Runs `read` in one repeatable-read snapshot when given a pool (a client is used as it is). */
async function inSnapshot<T>(db: pg.Pool | pg.ClientBase, read: (q: Queryable) => Promise<T>): Promise<T> {
  if (!(db instanceof pg.Pool)) return read(db);
  const client = await db.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const result = await read(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * The delta for `userId` since `cursor` (null: a fresh device — no items, every session row and a
 * cursor at the current heads). Items: inbox rows and large-group items merged in global order —
 * inbox rows stay in inboxSeq order, and every conversation's items come in seq order even across a
 * fan-out switch — at most `limit`; `hasMore` when more were waiting.
 */
export async function tenQueryDelta(db: pg.Pool | pg.ClientBase, userId: string, cursor: SyncCursor | null, limit: number): Promise<Delta> {
  checkId('userId', userId);
  checkLimit(limit);
  if (cursor) checkCursor(cursor);
  return inSnapshot(db, async (q) => {
    const fence = await readSyncFence(q);
    if (cursor && cursor.epoch !== fence.epoch) {
      throw new ResyncRequiredError('epoch_changed', `The sync cursor is from epoch ${cursor.epoch}; the views are at epoch ${fence.epoch}`);
    }
    return cursor ? deltaSince(q, userId, cursor, limit, fence) : freshDelta(q, userId, fence);
  });
}

async function freshDelta(q: Queryable, userId: string, fence: SyncFence): Promise<Delta> {
  const head = await q.query<{ inbox_seq: string }>(
    `SELECT inbox_seq FROM ${ENTRIES} WHERE user_id = $1 AND global_position <= $2 ORDER BY inbox_seq DESC LIMIT 1`,
    [userId, fence.position.toString()],
  );
  const groups = await readFanoutGroups(q, userId);
  const heads = await q.query<{ c: string; seq: number | null }>(
    `SELECT x.c, (SELECT max(t.seq) FROM ${ITEMS} t WHERE t.conversation_id = x.c AND t.global_position <= $2) AS seq
       FROM unnest($1::text[]) AS x(c)`,
    [[...groups.keys()], fence.position.toString()],
  );
  const cursorGroups: Record<string, number> = {};
  for (const r of heads.rows) cursorGroups[r.c] = r.seq ?? 0;
  return {
    items: [],
    conversations: await getAllSessionRows(q, userId),
    unreadTotal: (await getUnread(q, userId)).total,
    nextCursor: { inboxSeq: Number(head.rows[0]?.inbox_seq ?? 0), groups: cursorGroups, epoch: fence.epoch },
    hasMore: false,
  };
}

interface FanoutGroup {
  modes: { fromSeq: number; mode: FanoutMode }[];
  periods: { fromSeq: number; toSeq: number | null }[];
}

/** The user's conversations that have ever been in read fan-out, with their mode changes and the user's periods. */
async function readFanoutGroups(q: Queryable, userId: string): Promise<Map<string, FanoutGroup>> {
  const periods = await q.query<{ conversation_id: string; from_seq: number; to_seq: number | null }>(
    `SELECT p.conversation_id, p.from_seq, p.to_seq FROM ${PERIODS} p
      WHERE p.user_id = $1 AND EXISTS (SELECT 1 FROM ${MODES} m WHERE m.conversation_id = p.conversation_id AND m.mode = 'read')`,
    [userId],
  );
  const groups = new Map<string, FanoutGroup>();
  for (const p of periods.rows) {
    const group = groups.get(p.conversation_id) ?? { modes: [], periods: [] };
    group.periods.push({ fromSeq: p.from_seq, toSeq: p.to_seq });
    groups.set(p.conversation_id, group);
  }
  if (groups.size === 0) return groups;
  const modes = await q.query<{ conversation_id: string; from_seq: number; mode: FanoutMode }>(
    `SELECT conversation_id, from_seq, mode FROM ${MODES} WHERE conversation_id = ANY($1::text[])`,
    [[...groups.keys()]],
  );
  for (const m of modes.rows) groups.get(m.conversation_id)!.modes.push({ fromSeq: m.from_seq, mode: m.mode });
  return groups;
}

// Rows map to delta items as in getDelta (entryToDeltaItem): this oracle checks the SQL, not the mapping.

/** A candidate item of the delta with where it comes from (to advance the right cursor). */
type Candidate = { position: bigint; item: DeltaItem } & ({ source: 'inbox'; inboxSeq: number } | { source: 'group' });

async function deltaSince(q: Queryable, userId: string, cursor: SyncCursor, limit: number, fence: SyncFence): Promise<Delta> {
  const fencePosition = fence.position.toString();
  const entries = await q.query<EntryRecord>(
    `SELECT e.inbox_seq, e.kind, e.conversation_id, e.seq, e.data, e.at, e.global_position, t.item
       FROM ${ENTRIES} e
       LEFT JOIN ${ITEMS} t ON e.kind = 'item' AND t.conversation_id = e.conversation_id AND t.seq = e.seq AND t.month = e.month
      WHERE e.user_id = $1 AND e.inbox_seq > $2 AND e.global_position <= $3
      ORDER BY e.inbox_seq LIMIT $4`,
    [userId, cursor.inboxSeq, fencePosition, limit + 1],
  );
  const groupRows = await readGroupItems(q, await pendingGroupRanges(q, userId, cursor), fencePosition, limit + 1);
  // Both sources are in global order; merging them by position keeps every conversation in seq
  // order, also across a fan-out switch (its write-mode seqs come from the inbox, the others not).
  const candidates: Candidate[] = [
    ...entries.rows.map((e): Candidate => ({ source: 'inbox', inboxSeq: Number(e.inbox_seq), position: BigInt(e.global_position), item: entryToDeltaItem(e) })),
    ...groupRows.map((r): Candidate => ({
      source: 'group',
      position: BigInt(r.global_position),
      item: { type: 'item', conversationId: r.conversation_id, seq: r.seq, item: r.item },
    })),
  ].sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
  const taken = candidates.slice(0, limit);

  const nextCursor: SyncCursor = { inboxSeq: cursor.inboxSeq, groups: { ...cursor.groups }, epoch: fence.epoch };
  for (const candidate of taken) {
    if (candidate.source === 'inbox') nextCursor.inboxSeq = candidate.inboxSeq;
    else if (candidate.item.type === 'item') nextCursor.groups[candidate.item.conversationId] = candidate.item.seq;
  }
  const items = taken.map((c) => c.item);
  const touched = [...new Set(items.map((i) => i.conversationId))];
  return {
    items,
    conversations: await getSessionRows(q, userId, touched),
    unreadTotal: (await getUnread(q, userId)).total,
    nextCursor,
    // Each source was read to limit + 1: more candidates than the page means something is left.
    hasMore: candidates.length > limit,
  };
}

type GroupRange = SeqRange & { c: string };

/** Seq ranges of the user's large groups still to read after the cursor. */
async function pendingGroupRanges(q: Queryable, userId: string, cursor: SyncCursor): Promise<GroupRange[]> {
  const ranges: GroupRange[] = [];
  for (const [c, group] of await readFanoutGroups(q, userId)) {
    for (const range of deliverableRanges(group.modes, group.periods, cursor.groups[c] ?? 0)) ranges.push({ c, ...range });
  }
  return ranges;
}

interface GroupItemRecord {
  conversation_id: string;
  seq: number;
  global_position: string;
  item: TimelineItem;
}

/** The first `max` timeline items of the ranges at or below the fence, in global order. */
async function readGroupItems(q: Queryable, ranges: readonly GroupRange[], fencePosition: string, max: number): Promise<GroupItemRecord[]> {
  if (ranges.length === 0) return [];
  // Per range an index scan by seq (at most `max` rows each), then the few candidates are ordered.
  const found = await q.query<GroupItemRecord>(
    `SELECT x.conversation_id, x.seq, x.global_position, x.item
       FROM json_to_recordset($1::json) AS r(c text, lo integer, hi integer)
       CROSS JOIN LATERAL (
         SELECT t.conversation_id, t.seq, t.global_position, t.item FROM ${ITEMS} t
          WHERE t.conversation_id = r.c AND t.seq BETWEEN r.lo AND r.hi AND t.global_position <= $2
          ORDER BY t.seq LIMIT $3) x
      ORDER BY x.global_position LIMIT $3`,
    [JSON.stringify(ranges.map((r) => ({ c: r.c, lo: r.lo, hi: r.hi ?? OPEN_END }))), fencePosition, max],
  );
  return found.rows;
}
