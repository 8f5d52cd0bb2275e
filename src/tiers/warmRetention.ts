// Warm retention: the timeline's month partitions older than the retention window are dropped, but
// only after checking that the log still covers them, i.e. that the event store still holds, for every
// conversation in the partition, the events of its first and last seq there at the same global
// positions. History of a dropped month is then read cold (coldHistory.ts); nothing else is lost.
import type pg from 'pg';
import { conversationStreamId } from '../domain/streams.js';
import { TIMELINE_SCHEMA } from '../projections/timeline/timelineProjection.js';
import type { EventStore } from '../store/eventStore.js';

export interface MonthPartition {
  /** e.g. items_p202609 */
  name: string;
  /** First day of the month, 'YYYY-MM-01'. */
  month: string;
}

export interface RetentionResult {
  dropped: string[];
  /** Expired partitions kept, and why (the log does not cover them, or a dry run). */
  kept: Array<{ partition: string; reason: string }>;
}

const PARTITION_NAME = /^items_p(\d{4})(\d{2})$/;
const DAY_MS = 24 * 3600 * 1000;
/** Conversations checked against the log at once. */
const CHECK_CONCURRENCY = 8;

export async function listMonthPartitions(db: pg.Pool): Promise<MonthPartition[]> {
  const found = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
       JOIN pg_class p ON p.oid = i.inhparent
       JOIN pg_namespace n ON n.oid = p.relnamespace
      WHERE n.nspname = $1 AND p.relname = 'items' ORDER BY c.relname`,
    [TIMELINE_SCHEMA],
  );
  return found.rows.flatMap(({ name }) => {
    const match = PARTITION_NAME.exec(name);
    return match ? [{ name, month: `${match[1]}-${match[2]}-01` }] : [];
  });
}

/** True when the whole month ended before `cutoffMs`. */
export function monthEndsBefore(month: string, cutoffMs: number): boolean {
  const [year, mon] = month.split('-').map(Number) as [number, number];
  return Date.UTC(year, mon, 1) <= cutoffMs; // Date.UTC months are 0-based: (year, mon) is the next month
}

interface ConversationSpan {
  conversation_id: string;
  lo: number;
  lo_position: string;
  hi: number;
  hi_position: string;
}

/** The first conversation whose span in the partition the log does not hold, or null when it covers all. */
export async function uncoveredConversation(db: pg.Pool, store: EventStore, partition: MonthPartition): Promise<string | null> {
  const spans = await db.query<ConversationSpan>(
    `SELECT conversation_id,
            min(seq) AS lo, (array_agg(global_position ORDER BY seq))[1]::text AS lo_position,
            max(seq) AS hi, (array_agg(global_position ORDER BY seq DESC))[1]::text AS hi_position
       FROM "${TIMELINE_SCHEMA}"."${partition.name}" GROUP BY conversation_id`,
  );
  const holds = async (conversationId: string, seq: number, position: string) => {
    const [event] = await store.readStream(conversationStreamId(conversationId), { fromPosition: seq - 1, maxCount: 1 });
    return event !== undefined && event.streamPosition === seq - 1 && event.globalPosition === BigInt(position);
  };
  for (let i = 0; i < spans.rows.length; i += CHECK_CONCURRENCY) {
    const slice = spans.rows.slice(i, i + CHECK_CONCURRENCY);
    const checks = await Promise.all(slice.map(async (s) => (await holds(s.conversation_id, s.lo, s.lo_position)) && (await holds(s.conversation_id, s.hi, s.hi_position))));
    const missing = checks.findIndex((ok) => !ok);
    if (missing >= 0) return slice[missing]!.conversation_id;
  }
  return null;
}

export interface RetentionOptions {
  retentionDays: number;
  now?: number;
  /** Report what would be dropped, drop nothing. */
  dryRun?: boolean;
}

/** Drops the month partitions that ended more than `retentionDays` ago and that the log still covers. */
export async function dropExpiredPartitions(db: pg.Pool, store: EventStore, options: RetentionOptions): Promise<RetentionResult> {
  const cutoff = (options.now ?? Date.now()) - options.retentionDays * DAY_MS;
  const result: RetentionResult = { dropped: [], kept: [] };
  for (const partition of await listMonthPartitions(db)) {
    if (!monthEndsBefore(partition.month, cutoff)) continue;
    const uncovered = await uncoveredConversation(db, store, partition);
    if (uncovered !== null) {
      result.kept.push({ partition: partition.name, reason: `the log no longer holds the events of conversation ${uncovered} stored there` });
      continue;
    }
    if (options.dryRun) {
      result.kept.push({ partition: partition.name, reason: 'dry run: would be dropped' });
      continue;
    }
    // Takes an exclusive lock: waits for a projector batch writing into it, then history reads go cold.
    await db.query(`DROP TABLE IF EXISTS "${TIMELINE_SCHEMA}"."${partition.name}"`);
    result.dropped.push(partition.name);
  }
  return result;
}
