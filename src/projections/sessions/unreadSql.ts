// The one SQL definition of unread (DESIGN.md §4) over the sessions projection's own tables: the
// MessageSent of the conversation inside one of the user's membership periods, above their read
// mark, not recalled, not their own. Used to recount stored counters and, for read fan-out groups
// (whose counters are not stored), at query time.
import { tableIn } from '../shared/sql.js';

/**
 * A scalar subquery counting the unread of the session row aliased `row` (which has user_id,
 * conversation_id, last_read_seq). A period starts at a membership event, never at a message, so
 * "seq > from_seq" is "sent while a member".
 */
export function unreadCountSql(schema: string, row: string): string {
  return `(SELECT coalesce(sum((
            SELECT count(*) FROM ${tableIn(schema, 'messages')} msg
             WHERE msg.conversation_id = p.conversation_id
               AND msg.seq > greatest(p.from_seq, ${row}.last_read_seq)
               AND (p.to_seq IS NULL OR msg.seq <= p.to_seq)
               AND NOT msg.recalled AND msg.sender_id <> p.user_id)), 0)::integer
           FROM ${tableIn(schema, 'member_periods')} p
          WHERE p.conversation_id = ${row}.conversation_id AND p.user_id = ${row}.user_id)`;
}

/** The row's unread: its stored counter, or the count when the conversation counts at read time. */
export const effectiveUnreadSql = (schema: string, row: string): string => `coalesce(${row}.unread, ${unreadCountSql(schema, row)})`;
