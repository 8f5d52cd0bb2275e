// Pure: the conversation list head and the unread summary from one user's hot session rows, shaped
// and ordered exactly like the warm queries (sessionsQueries.ts: SESSION_SELECT, listConversations,
// getUnread). null when a row the answer needs has an unread unknown to hot: the caller reads warm.
import { encodeCursor, EPOCH_ISO } from '../projections/sessions/sessionsQueries.js';
import type { SessionPage, SessionRow, UnreadSummary } from '../projections/types.js';
import type { HotSessionsRead } from './hotStore.js';

type Entry = HotSessionsRead['entries'][number];

/** One row as the warm SESSION_SELECT shows it; null when its unread (or its conversation) is unknown here. */
export function sessionRowOf(userId: string, { row, conversation }: Entry): SessionRow | null {
  if (!conversation || row.unread === null) return null;
  const { heads } = conversation;
  const shown = row.active ? heads : row.frozen;
  const title =
    heads.kind === 'direct'
      ? (heads.directMembers ?? []).find((m) => m !== userId) ?? userId
      : ((row.active ? heads.name : row.frozen?.name) ?? '');
  return {
    conversationId: row.conversationId,
    kind: heads.kind,
    title,
    lastSeq: shown?.lastSeq ?? 0,
    lastMessage: shown?.lastMessage ?? null,
    unread: row.unread.length,
    lastReadSeq: row.lastReadSeq,
    updatedAt: shown?.updatedAt ? new Date(shown.updatedAt).toISOString() : EPOCH_ISO,
    muted: row.muted,
    pinned: row.pinned,
    hidden: row.hidden,
    active: row.active,
    dissolved: heads.dissolved,
  };
}

const activityMs = (e: Entry): number => {
  const shown = e.row.active ? e.conversation?.heads : e.row.frozen;
  return shown?.updatedAt ? Date.parse(shown.updatedAt) : 0;
};
const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The first page of the list (newest activity first, then by id, descending), or null. */
export function hotSessionHead(userId: string, entries: readonly Entry[], limit: number): SessionPage | null {
  const sorted = [...entries].sort((a, b) => activityMs(b) - activityMs(a) || byId(b.row.conversationId, a.row.conversationId));
  const items: SessionRow[] = [];
  for (const entry of sorted.slice(0, limit)) {
    const row = sessionRowOf(userId, entry);
    if (!row) return null;
    items.push(row);
  }
  const last = items.at(-1);
  return { items, nextCursor: sorted.length > limit && last ? encodeCursor({ at: last.updatedAt, id: last.conversationId }) : null };
}

/** Unread per active conversation (by id) and the total, or null when any of them is unknown here. */
export function hotUnread(entries: readonly Entry[]): UnreadSummary | null {
  const conversations: UnreadSummary['conversations'] = [];
  for (const { row } of entries) {
    if (!row.active) continue; // departed conversations count nowhere (as in getUnread)
    if (row.unread === null) return null;
    conversations.push({ conversationId: row.conversationId, unread: row.unread.length });
  }
  conversations.sort((a, b) => byId(a.conversationId, b.conversationId));
  return { total: conversations.reduce((sum, c) => sum + c.unread, 0), conversations };
}
