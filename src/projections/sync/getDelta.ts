// The sync delta (DESIGN.md §5): what a device has not seen since its cursor — its inbox rows (write
// fan-out), the items of its large groups read from their timelines (read fan-out), the session rows
// those items changed and the unread total. Reads three projections in one snapshot and never past
// the lowest of their checkpoints, so every item returned has its payload and its session row.
//
// A pull is ONE statement (one round trip, one snapshot: every CTE of a statement reads the same
// snapshot, so no REPEATABLE READ transaction is needed): the fence, the inbox rows, the large-group
// ranges (deliverableRanges of fold/readRanges.ts, in SQL) and their items, the merge in global
// order, the session rows of the conversations the page touched and the unread total come back as
// rows of one result, told apart by their `k` column. It used to be seven to nine round trips
// (BEGIN, checkpoints, inbox, periods, modes, group items, session rows, unread, COMMIT), which cost
// more than the reads themselves on a loaded machine.
//
// Both statements are named (prepared once per connection): planning the statement costs more than
// running it (2-6 ms against about 1 ms for a small page), and a named statement is planned once per
// connection (PostgreSQL then settles on a generic plan). A prepared plan follows a projection swap:
// renaming a schema resets PostgreSQL's plan cache, so the next run resolves the names again
// (oneStatement.int.spec.ts checks it).
import type pg from 'pg';
import { INBOX_SCHEMA } from '../inbox/inboxProjection.js';
import { TIMELINE_SCHEMA } from '../timeline/timelineProjection.js';
import { readCheckpoints } from '../checkpoints.js';
import { InvalidQueryError, ResyncRequiredError } from '../errors.js';
import { SESSION_SELECT, toSessionRow, type SessionRecord } from '../sessions/sessionsQueries.js';
import { SESSIONS_SCHEMA } from '../sessions/sessionsProjection.js';
import { effectiveUnreadSql } from '../sessions/unreadSql.js';
import { tableIn, type Queryable } from '../shared/sql.js';
import { checkId, checkLimit } from '../shared/validate.js';
import type { Delta, DeltaItem, SessionRow, SyncCursor, TimelineItem } from '../types.js';

/** The projections that serve sync; the cursor's epoch is the inbox's (inbox seqs belong to one build). */
export const SYNC_PROJECTIONS = ['inbox', 'timeline', 'sessions'] as const;

const ENTRIES = tableIn(INBOX_SCHEMA, 'entries');
const PERIODS = tableIn(INBOX_SCHEMA, 'member_periods');
const MODES = tableIn(INBOX_SCHEMA, 'fanout_modes');
const ITEMS = tableIn(TIMELINE_SCHEMA, 'items');
const OPEN_END = 2_147_483_647;
const SESSION_ROWS = tableIn(SESSIONS_SCHEMA, 'rows');

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

/**
 * The fence as a one-row FROM item, as readSyncFence computes it: the lowest checkpoint of the sync
 * projections (0 while one is missing) and the inbox's epoch (0 while it is missing).
 */
const FENCE_SQL = `
  SELECT CASE WHEN count(*) = ${SYNC_PROJECTIONS.length} THEN min(position) ELSE 0 END AS position,
         coalesce(max(epoch) FILTER (WHERE name = 'inbox'), 0) AS epoch
    FROM projection_checkpoints WHERE name IN (${SYNC_PROJECTIONS.map((n) => `'${n}'`).join(', ')})`;

/** The user's conversations that have ever been in read fan-out: their membership periods. */
const FANOUT_PERIODS_SQL = `
  SELECT p.conversation_id, p.from_seq, p.to_seq FROM ${PERIODS} p
   WHERE p.user_id = $1 AND EXISTS (SELECT 1 FROM ${MODES} m WHERE m.conversation_id = p.conversation_id AND m.mode = 'read')`;

/** The user's unread total (getUnread's sum, in the same statement). */
const UNREAD_TOTAL_SQL = `
  (SELECT coalesce(sum(${effectiveUnreadSql(SESSIONS_SCHEMA, 'r')}), 0) FROM ${SESSION_ROWS} r WHERE r.user_id = $1 AND r.active)`;

/** A session row of SESSION_SELECT (aliased s) as columns of the combined result. */
const SESSION_COLUMNS = `s."conversationId" AS conversation_id, s.kind AS s_kind, s.title AS s_title, s."lastSeq" AS s_last_seq,
  s."lastMessage" AS s_last_message, s.unread AS s_unread, s."lastReadSeq" AS s_last_read_seq, s.activity AS s_activity,
  s.muted AS s_muted, s.pinned AS s_pinned, s.hidden AS s_hidden, s.active AS s_active, s.dissolved AS s_dissolved`;

/** The same columns, all null (the other kinds of row). */
const NO_SESSION_COLUMNS = `NULL::text AS s_kind, NULL::text AS s_title, NULL::integer AS s_last_seq, NULL::jsonb AS s_last_message,
  NULL::integer AS s_unread, NULL::integer AS s_last_read_seq, NULL::timestamptz AS s_activity, NULL::boolean AS s_muted,
  NULL::boolean AS s_pinned, NULL::boolean AS s_hidden, NULL::boolean AS s_active, NULL::boolean AS s_dissolved`;

/** One row of the combined result: `h` the header (one), `c` a candidate item, `g` a group head, `s` a session row. */
interface DeltaRecord {
  k: 'h' | 'c' | 'g' | 's';
  rn: string | null;
  // header
  fence_position: string | null;
  epoch: number | null;
  unread_total: string | null;
  head_inbox_seq: string | null;
  // candidates ('c'); group heads ('g') use conversation_id and seq
  src: number | null;
  inbox_seq: string | null;
  kind: 'item' | 'read' | 'settings' | null;
  conversation_id: string | null;
  seq: number | null;
  data: Record<string, unknown> | null;
  at: string | null;
  global_position: string | null;
  item: TimelineItem | null;
  // session rows ('s')
  s_kind: SessionRow['kind'] | null;
  s_title: string | null;
  s_last_seq: number | null;
  s_last_message: SessionRow['lastMessage'] | null;
  s_unread: number | null;
  s_last_read_seq: number | null;
  s_activity: Date | null;
  s_muted: boolean | null;
  s_pinned: boolean | null;
  s_hidden: boolean | null;
  s_active: boolean | null;
  s_dissolved: boolean | null;
}

const sessionOf = (r: DeltaRecord): SessionRow =>
  toSessionRow({
    conversationId: r.conversation_id!,
    kind: r.s_kind!,
    title: r.s_title!,
    lastSeq: r.s_last_seq!,
    lastMessage: r.s_last_message!,
    unread: r.s_unread!,
    lastReadSeq: r.s_last_read_seq!,
    activity: r.s_activity,
    muted: r.s_muted!,
    pinned: r.s_pinned!,
    hidden: r.s_hidden!,
    active: r.s_active!,
    dissolved: r.s_dissolved!,
  } as SessionRecord);

/** The header row's fence; throws resync_required when the cursor is from another epoch. */
function fenceOf(rows: readonly DeltaRecord[], cursor: SyncCursor | null): SyncFence {
  const header = rows.find((r) => r.k === 'h')!;
  const fence = { position: BigInt(header.fence_position!), epoch: header.epoch! };
  if (cursor && cursor.epoch !== fence.epoch) {
    throw new ResyncRequiredError('epoch_changed', `The sync cursor is from epoch ${cursor.epoch}; the views are at epoch ${fence.epoch}`);
  }
  return fence;
}

const unreadTotalOf = (rows: readonly DeltaRecord[]): number => Number(rows.find((r) => r.k === 'h')!.unread_total);

/**
 * The delta for `userId` since `cursor` (null: a fresh device — no items, every session row and a
 * cursor at the current heads). Items: inbox rows and large-group items merged in global order —
 * inbox rows stay in inboxSeq order, and every conversation's items come in seq order even across a
 * fan-out switch — at most `limit`; `hasMore` when more were waiting. One statement, one round trip
 * (on a pool, outside any transaction; on a client, inside whatever transaction it is in).
 */
export async function getDelta(db: pg.Pool | pg.ClientBase, userId: string, cursor: SyncCursor | null, limit: number): Promise<Delta> {
  checkId('userId', userId);
  checkLimit(limit);
  if (cursor) checkCursor(cursor);
  return cursor ? deltaSince(db, userId, cursor, limit) : freshDelta(db, userId);
}

const FRESH_SQL = `
  WITH fence AS MATERIALIZED (${FENCE_SQL}),
  groups AS (SELECT DISTINCT conversation_id FROM (${FANOUT_PERIODS_SQL}) p)
  SELECT 'h' AS k, NULL::bigint AS rn, f.position AS fence_position, f.epoch, ${UNREAD_TOTAL_SQL} AS unread_total,
         (SELECT e.inbox_seq FROM ${ENTRIES} e WHERE e.user_id = $1 AND e.global_position <= f.position ORDER BY e.inbox_seq DESC LIMIT 1) AS head_inbox_seq,
         NULL::text AS conversation_id, NULL::integer AS seq, ${NO_SESSION_COLUMNS}
    FROM fence f
  UNION ALL
  SELECT 'g', NULL, NULL, NULL, NULL, NULL, g.conversation_id,
         (SELECT max(t.seq) FROM ${ITEMS} t WHERE t.conversation_id = g.conversation_id AND t.global_position <= (SELECT position FROM fence)),
         ${NO_SESSION_COLUMNS}
    FROM groups g
  UNION ALL
  SELECT 's', row_number() OVER (ORDER BY coalesce(s.activity, 'epoch') DESC, s."conversationId" DESC), NULL, NULL, NULL, NULL,
         ${SESSION_COLUMNS.replace('s."conversationId" AS conversation_id, ', 's."conversationId", NULL::integer, ')}
    FROM (${SESSION_SELECT} WHERE r.user_id = $1) s
  ORDER BY k, rn, conversation_id`;

async function freshDelta(db: Queryable, userId: string): Promise<Delta> {
  const { rows } = await db.query<DeltaRecord>({ name: 'missive_sync_fresh', text: FRESH_SQL, values: [userId] });
  const fence = fenceOf(rows, null);
  const cursorGroups: Record<string, number> = {};
  for (const r of rows) if (r.k === 'g') cursorGroups[r.conversation_id!] = r.seq ?? 0;
  const head = rows.find((r) => r.k === 'h')!.head_inbox_seq;
  return {
    items: [],
    conversations: rows.filter((r) => r.k === 's').map(sessionOf),
    unreadTotal: unreadTotalOf(rows),
    nextCursor: { inboxSeq: Number(head ?? 0), groups: cursorGroups, epoch: fence.epoch },
    hasMore: false,
  };
}

/** An inbox entry row joined with its timeline item; also read by the former ten-query read kept as a test oracle. */
export interface EntryRecord {
  inbox_seq: string;
  global_position: string;
  kind: 'item' | 'read' | 'settings';
  conversation_id: string;
  seq: number | null;
  data: Record<string, unknown> | null;
  at: string | null;
  item: TimelineItem | null;
}

export function entryToDeltaItem(entry: EntryRecord): DeltaItem {
  const data = entry.data ?? {};
  const at = entry.at ?? '';
  if (entry.kind === 'read') {
    return { type: 'read', conversationId: entry.conversation_id, seq: Number(data.seq ?? 0), deviceId: String(data.deviceId ?? ''), at };
  }
  if (entry.kind === 'settings') {
    const settings: DeltaItem = { type: 'settings', conversationId: entry.conversation_id, at };
    for (const key of ['muted', 'pinned', 'hidden'] as const) if (typeof data[key] === 'boolean') settings[key] = data[key];
    return settings;
  }
  if (!entry.item) {
    throw new ResyncRequiredError('history_evicted', `Item ${entry.conversation_id}#${entry.seq} is no longer in the warm tier; start over`);
  }
  return { type: 'item', conversationId: entry.conversation_id, seq: entry.seq ?? 0, item: entry.item };
}

/** A candidate item of the delta with where it comes from (to advance the right cursor). */
type Candidate = { item: DeltaItem } & ({ source: 'inbox'; inboxSeq: number } | { source: 'group' });

/**
 * $1 user, $2 the cursor's inboxSeq, $3 its large-group cursors (a JSON object), $4 limit + 1 (each
 * source is read to it: more candidates than the page means something is left), $5 limit.
 *
 * The group ranges are deliverableRanges (fold/readRanges.ts) in SQL: each read-mode span of the mode
 * changes (up to the next change) ∩ each membership period ∩ (cursor, ∞); greatest/least skip nulls
 * as its open ends do. Per range an index scan by seq (at most $4 rows each), then the few
 * candidates are ordered. Candidates are ranked in global order, ties as the former stable sort of
 * [inbox rows by inboxSeq, then group items] broke them; the page is the first $5.
 */
const SINCE_SQL = `
  WITH fence AS MATERIALIZED (${FENCE_SQL}),
  entries AS (
    SELECT e.inbox_seq, e.kind, e.conversation_id, e.seq, e.data, e.at, e.global_position, t.item
      FROM ${ENTRIES} e
      LEFT JOIN ${ITEMS} t ON e.kind = 'item' AND t.conversation_id = e.conversation_id AND t.seq = e.seq AND t.month = e.month
     WHERE e.user_id = $1 AND e.inbox_seq > $2 AND e.global_position <= (SELECT position FROM fence)
     ORDER BY e.inbox_seq LIMIT $4),
  periods AS MATERIALIZED (${FANOUT_PERIODS_SQL}),
  modes AS (
    SELECT m.conversation_id, m.mode, m.from_seq AS lo, lead(m.from_seq) OVER (PARTITION BY m.conversation_id ORDER BY m.from_seq) - 1 AS hi
      FROM ${MODES} m WHERE m.conversation_id IN (SELECT conversation_id FROM periods)),
  ranges AS (
    SELECT m.conversation_id AS c,
           greatest(m.lo, p.from_seq, coalesce(($3::jsonb ->> m.conversation_id)::bigint, 0) + 1) AS lo,
           least(m.hi, p.to_seq) AS hi
      FROM modes m JOIN periods p ON p.conversation_id = m.conversation_id
     WHERE m.mode = 'read'),
  group_items AS (
    SELECT x.conversation_id, x.seq, x.global_position, x.item
      FROM ranges r
      CROSS JOIN LATERAL (
        SELECT t.conversation_id, t.seq, t.global_position, t.item FROM ${ITEMS} t
         WHERE t.conversation_id = r.c AND t.seq >= r.lo AND t.seq <= coalesce(r.hi, ${OPEN_END})
           AND t.global_position <= (SELECT position FROM fence)
         ORDER BY t.seq LIMIT $4) x
     ORDER BY x.global_position LIMIT $4),
  candidates AS (
    SELECT 0 AS src, inbox_seq, kind, conversation_id, seq, data, at, global_position, item FROM entries
    UNION ALL
    SELECT 1, NULL::bigint, 'item', conversation_id, seq, NULL::jsonb, NULL::text, global_position, item FROM group_items),
  ranked AS (
    SELECT c.*, row_number() OVER (ORDER BY c.global_position, c.src, c.inbox_seq, c.seq) AS rn FROM candidates c),
  touched AS (SELECT DISTINCT conversation_id FROM ranked WHERE rn <= $5)
  SELECT 'h' AS k, NULL::bigint AS rn, f.position AS fence_position, f.epoch, ${UNREAD_TOTAL_SQL} AS unread_total,
         NULL::integer AS src, NULL::bigint AS inbox_seq, NULL::text AS kind, NULL::text AS conversation_id, NULL::integer AS seq,
         NULL::jsonb AS data, NULL::text AS at, NULL::bigint AS global_position, NULL::jsonb AS item, ${NO_SESSION_COLUMNS}
    FROM fence f
  UNION ALL
  SELECT 'c', c.rn, NULL, NULL, NULL, c.src, c.inbox_seq, c.kind, c.conversation_id, c.seq, c.data, c.at, c.global_position, c.item,
         ${NO_SESSION_COLUMNS}
    FROM ranked c
  UNION ALL
  SELECT 's', NULL, NULL, NULL, NULL, NULL, NULL, NULL, ${SESSION_COLUMNS.replace('s."conversationId" AS conversation_id, ', 's."conversationId", NULL, NULL, NULL, NULL, NULL, ')}
    FROM (${SESSION_SELECT} WHERE r.user_id = $1 AND r.conversation_id IN (SELECT conversation_id FROM touched)) s
  ORDER BY k, rn, conversation_id`;

async function deltaSince(db: Queryable, userId: string, cursor: SyncCursor, limit: number): Promise<Delta> {
  const values = [userId, cursor.inboxSeq, JSON.stringify(cursor.groups), limit + 1, limit];
  const { rows } = await db.query<DeltaRecord>({ name: 'missive_sync_since', text: SINCE_SQL, values });
  const fence = fenceOf(rows, cursor);
  // Every candidate is checked (an evicted inbox item answers resync_required even past the page),
  // as when they were merged here; the statement already ranked them.
  const candidates = rows
    .filter((r) => r.k === 'c')
    .map((r): Candidate =>
      r.src === 0
        ? { source: 'inbox', inboxSeq: Number(r.inbox_seq), item: entryToDeltaItem(r as EntryRecord) }
        : { source: 'group', item: { type: 'item', conversationId: r.conversation_id!, seq: r.seq!, item: r.item! } },
    );
  const taken = candidates.slice(0, limit);

  const nextCursor: SyncCursor = { inboxSeq: cursor.inboxSeq, groups: { ...cursor.groups }, epoch: fence.epoch };
  for (const candidate of taken) {
    if (candidate.source === 'inbox') nextCursor.inboxSeq = candidate.inboxSeq;
    else if (candidate.item.type === 'item') nextCursor.groups[candidate.item.conversationId] = candidate.item.seq;
  }
  return {
    items: taken.map((c) => c.item),
    // The rows of the conversations the page touched, by conversation id (getSessionRows' order).
    conversations: rows.filter((r) => r.k === 's').map(sessionOf),
    unreadTotal: unreadTotalOf(rows),
    nextCursor,
    hasMore: candidates.length > limit,
  };
}
