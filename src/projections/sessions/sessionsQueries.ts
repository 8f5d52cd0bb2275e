// Reads of the sessions projection: the conversation list (keyset pages by last activity), unread
// per conversation and the user's total, and the rows of given conversations (for sync deltas).
import { InvalidCursorError } from '../errors.js';
import { tableIn, type Queryable } from '../shared/sql.js';
import { checkId, checkLimit } from '../shared/validate.js';
import type { SessionPage, SessionRow, UnreadSummary } from '../types.js';
import { SESSIONS_SCHEMA } from './sessionsProjection.js';
import { effectiveUnreadSql } from './unreadSql.js';

const ROWS = tableIn(SESSIONS_SCHEMA, 'rows');
const CONVERSATIONS = tableIn(SESSIONS_SCHEMA, 'conversations');

/**
 * A departed member's row shows what they last saw (frozen_*), an active one the live heads. Also
 * spliced into the sync delta's one statement (sync/getDelta.ts), which maps its columns with toSessionRow.
 */
export const SESSION_SELECT = `
  SELECT r.conversation_id AS "conversationId",
         c.kind,
         CASE WHEN c.kind = 'direct'
              THEN coalesce((SELECT m FROM unnest(c.direct_members) m WHERE m <> r.user_id LIMIT 1), r.user_id)
              ELSE coalesce(CASE WHEN r.active THEN c.name ELSE r.frozen_name END, '') END AS title,
         CASE WHEN r.active THEN c.last_seq ELSE r.frozen_last_seq END AS "lastSeq",
         CASE WHEN r.active THEN c.last_message ELSE r.frozen_last_message END AS "lastMessage",
         ${effectiveUnreadSql(SESSIONS_SCHEMA, 'r')} AS unread,
         r.last_read_seq AS "lastReadSeq",
         CASE WHEN r.active THEN c.updated_at ELSE r.frozen_updated_at END AS activity,
         r.muted, r.pinned, r.hidden, r.active, c.dissolved
    FROM ${ROWS} r JOIN ${CONVERSATIONS} c ON c.conversation_id = r.conversation_id`;

export type SessionRecord = Omit<SessionRow, 'updatedAt'> & { activity: Date | null };

export const EPOCH_ISO = new Date(0).toISOString();

export function toSessionRow(record: SessionRecord): SessionRow {
  const { activity, ...rest } = record;
  return { ...rest, lastSeq: rest.lastSeq ?? 0, updatedAt: activity ? activity.toISOString() : EPOCH_ISO };
}

interface ListCursor {
  at: string;
  id: string;
}

export const encodeCursor = (cursor: ListCursor): string => Buffer.from(JSON.stringify([cursor.at, cursor.id]), 'utf8').toString('base64url');

function decodeCursor(cursor: string): ListCursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string') {
      if (!Number.isNaN(Date.parse(parsed[0]))) return { at: parsed[0], id: parsed[1] };
    }
  } catch {
    // fall through: not a cursor we issued
  }
  throw new InvalidCursorError('The conversation list cursor is not one this service issued');
}

export interface ListConversationsOptions {
  limit: number;
  cursor?: string | null;
}

/** The user's conversations by last activity (newest first, then by id), one page at a time. */
export async function listConversations(pool: Queryable, userId: string, options: ListConversationsOptions): Promise<SessionPage> {
  checkId('userId', userId);
  const limit = checkLimit(options.limit);
  const after = options.cursor ? decodeCursor(options.cursor) : null;
  const found = await pool.query<SessionRecord>(
    `SELECT * FROM (${SESSION_SELECT} WHERE r.user_id = $1) s
      WHERE $2::timestamptz IS NULL OR (coalesce(s.activity, 'epoch'), s."conversationId") < ($2::timestamptz, $3::text)
      ORDER BY coalesce(s.activity, 'epoch') DESC, s."conversationId" DESC
      LIMIT $4`,
    [userId, after?.at ?? null, after?.id ?? null, limit + 1],
  );
  const items = found.rows.slice(0, limit).map(toSessionRow);
  const last = items.at(-1);
  return { items, nextCursor: found.rows.length > limit && last ? encodeCursor({ at: last.updatedAt, id: last.conversationId }) : null };
}

/** The session rows of the given conversations for one user (the ones a sync delta touched). */
export async function getSessionRows(pool: Queryable, userId: string, conversationIds: readonly string[]): Promise<SessionRow[]> {
  if (conversationIds.length === 0) return [];
  const found = await pool.query<SessionRecord>(`${SESSION_SELECT} WHERE r.user_id = $1 AND r.conversation_id = ANY($2::text[]) ORDER BY r.conversation_id`, [
    userId,
    [...conversationIds],
  ]);
  return found.rows.map(toSessionRow);
}

/** Every session row of the user, newest activity first (a fresh device's list). */
export async function getAllSessionRows(pool: Queryable, userId: string): Promise<SessionRow[]> {
  const found = await pool.query<SessionRecord>(
    `SELECT * FROM (${SESSION_SELECT} WHERE r.user_id = $1) s ORDER BY coalesce(s.activity, 'epoch') DESC, s."conversationId" DESC`,
    [userId],
  );
  return found.rows.map(toSessionRow);
}

/**
 * Unread per conversation the user is a member of, and their sum, from one statement (one snapshot),
 * so the total is always the sum of the list (README.md: departed conversations count nowhere).
 */
export async function getUnread(pool: Queryable, userId: string): Promise<UnreadSummary> {
  checkId('userId', userId);
  const found = await pool.query<{ conversationId: string; unread: number }>(
    `SELECT r.conversation_id AS "conversationId", ${effectiveUnreadSql(SESSIONS_SCHEMA, 'r')} AS unread
       FROM ${ROWS} r WHERE r.user_id = $1 AND r.active ORDER BY r.conversation_id`,
    [userId],
  );
  const conversations = found.rows;
  return { total: conversations.reduce((sum, c) => sum + c.unread, 0), conversations };
}
