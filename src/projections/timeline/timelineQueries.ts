// History pages from the timeline (the warm tier): by seq, before or after a given seq, ascending.
import { InvalidQueryError } from '../errors.js';
import { tableIn, type Queryable } from '../shared/sql.js';
import { checkId, checkLimit, checkSeq } from '../shared/validate.js';
import type { HistoryPage, TimelineItem } from '../types.js';
import { TIMELINE_SCHEMA } from './timelineProjection.js';

export const TIMELINE_ITEMS = tableIn(TIMELINE_SCHEMA, 'items');

export interface HistoryQuery {
  /** Items with seq below this (the newest `limit` of them). */
  before?: number;
  /** Items with seq above this (the oldest `limit` of them). */
  after?: number;
  limit: number;
}

/**
 * A page of history in ascending seq. `after` alone: the `limit` items following it; `before`
 * alone: the `limit` items preceding it; both: the first `limit` items between them; neither: the
 * latest `limit` items.
 */
export async function getHistory(pool: Queryable, conversationId: string, query: HistoryQuery): Promise<HistoryPage> {
  checkId('conversationId', conversationId);
  const limit = checkLimit(query.limit);
  const before = query.before === undefined ? null : checkSeq('before', query.before);
  const after = query.after === undefined ? null : checkSeq('after', query.after);
  if (before !== null && after !== null && before <= after) throw new InvalidQueryError('before', 'before must be greater than after');
  const newestFirst = after === null;
  const found = await pool.query<{ item: TimelineItem }>(
    `SELECT item FROM ${TIMELINE_ITEMS}
      WHERE conversation_id = $1 AND ($2::int IS NULL OR seq < $2) AND ($3::int IS NULL OR seq > $3)
      ORDER BY seq ${newestFirst ? 'DESC' : 'ASC'} LIMIT $4`,
    [conversationId, before, after, limit],
  );
  const items = found.rows.map((r) => r.item);
  return { items: newestFirst ? items.reverse() : items };
}
