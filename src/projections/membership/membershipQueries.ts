// Reads of the membership projection: who belongs to a conversation (with roles), whether a user does,
// and which conversations a user belongs to.
import type { MemberRole } from '../../domain/events.js';
import { checkId } from '../shared/validate.js';
import { tableIn, type Queryable } from '../shared/sql.js';
import type { ConversationKind, MembersView } from '../types.js';
import { MEMBERSHIP_SCHEMA } from './membershipProjection.js';

const conversations = tableIn(MEMBERSHIP_SCHEMA, 'conversations');
const members = tableIn(MEMBERSHIP_SCHEMA, 'members');

/** The conversation's kind, current members (by user id) and whether it is dissolved; null if unknown. */
export async function getMembers(pool: Queryable, conversationId: string): Promise<MembersView | null> {
  checkId('conversationId', conversationId);
  const found = await pool.query<{ kind: ConversationKind; dissolved: boolean; members: { userId: string; role: MemberRole }[] }>(
    `SELECT c.kind, c.dissolved,
            coalesce((SELECT json_agg(json_build_object('userId', m.user_id, 'role', m.role) ORDER BY m.user_id)
                        FROM ${members} m WHERE m.conversation_id = c.conversation_id), '[]') AS members
       FROM ${conversations} c WHERE c.conversation_id = $1`,
    [conversationId],
  );
  const row = found.rows[0];
  return row ? { kind: row.kind, members: row.members, dissolved: row.dissolved } : null;
}

/** The current members (user ids) of each of the conversations, in one query; unknown ones are absent. */
export async function getMemberIdsOf(pool: Queryable, conversationIds: readonly string[]): Promise<Map<string, string[]>> {
  for (const id of conversationIds) checkId('conversationId', id);
  const out = new Map<string, string[]>();
  if (conversationIds.length === 0) return out;
  const found = await pool.query<{ conversation_id: string; user_id: string }>(
    `SELECT conversation_id, user_id FROM ${members} WHERE conversation_id = ANY($1::text[])`,
    [conversationIds],
  );
  for (const r of found.rows) {
    const list = out.get(r.conversation_id);
    if (list) list.push(r.user_id);
    else out.set(r.conversation_id, [r.user_id]);
  }
  return out;
}

/** Whether the user is a current member (a dissolved group keeps its last members). */
export async function isMember(pool: Queryable, conversationId: string, userId: string): Promise<boolean> {
  checkId('conversationId', conversationId);
  checkId('userId', userId);
  const found = await pool.query(`SELECT 1 FROM ${members} WHERE conversation_id = $1 AND user_id = $2`, [conversationId, userId]);
  return (found.rowCount ?? 0) > 0;
}

/** The conversations the user currently belongs to. */
export async function listMemberConversationIds(pool: Queryable, userId: string): Promise<string[]> {
  checkId('userId', userId);
  const found = await pool.query<{ conversation_id: string }>(`SELECT conversation_id FROM ${members} WHERE user_id = $1 ORDER BY conversation_id`, [userId]);
  return found.rows.map((r) => r.conversation_id);
}
