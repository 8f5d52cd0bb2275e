// The warm tier of history: the timeline projection's month-partitioned items table in PostgreSQL.
import type { Queryable } from '../projections/shared/sql.js';
import { TIMELINE_ITEMS } from '../projections/timeline/timelineQueries.js';
import type { TimelineItem } from '../projections/types.js';

/** The items with seq in [from, to] that the warm tier holds (dropped partitions hold none), ascending. */
export async function warmItems(db: Queryable, conversationId: string, from: number, to: number): Promise<TimelineItem[]> {
  const found = await db.query<{ item: TimelineItem }>(
    `SELECT item FROM ${TIMELINE_ITEMS} WHERE conversation_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq`,
    [conversationId, from, to],
  );
  return found.rows.map((r) => r.item);
}
