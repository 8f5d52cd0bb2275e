// The oracle in the shapes the projection queries answer (DESIGN.md §7 and src/projections/README.md:
// a recalled message shows `body: {}` and `recalled: true`, a session row carries its settings and
// `active`, unread lists only current memberships). Pure: the property tests compare these with what
// test/support/projectionViews.ts reads from the database, and both sides are plain JSON.
import { sessionListOf, unreadTotalOf, type Oracle, type OracleItem, type OracleMessage, type OracleSession } from './oracle.js';

/** Every view of a world, keyed by conversation or user; plain JSON so one toEqual shows every difference. */
export interface WorldViews {
  members: Record<string, { kind: string; members: Array<{ userId: string; role: string }>; dissolved: boolean } | null>;
  /** Whole history per conversation, ascending seq. */
  histories: Record<string, unknown[]>;
  unread: Record<string, { total: number; conversations: Array<{ conversationId: string; unread: number }> }>;
  /** The whole session list per user, in list order. */
  sessions: Record<string, unknown[]>;
}

export function expectedHistoryItem(item: OracleItem): unknown {
  if (item.kind === 'system') return { seq: item.seq, kind: 'system', event: item.event, actorId: item.actorId, data: item.data, at: item.at };
  return {
    messageId: item.messageId,
    seq: item.seq,
    senderId: item.senderId,
    kind: item.messageKind,
    body: item.recalled ? {} : item.body,
    sentAt: item.sentAt,
    ...(item.editedAt === undefined ? {} : { editedAt: item.editedAt }),
    ...(item.recalled ? { recalled: true } : {}),
  };
}

function expectedPreview(message: OracleMessage | null): unknown {
  if (!message) return null;
  const preview = { messageId: message.messageId, seq: message.seq, senderId: message.senderId, kind: message.messageKind };
  if (message.recalled) return { ...preview, recalled: true };
  return typeof message.body.text === 'string' ? { ...preview, text: message.body.text } : preview;
}

export function expectedSessionRow(session: OracleSession): unknown {
  return {
    conversationId: session.conversationId,
    kind: session.kind,
    title: session.title,
    lastSeq: session.lastSeq,
    lastMessage: expectedPreview(session.lastMessage),
    unread: session.unread,
    lastReadSeq: session.readMark,
    updatedAt: session.updatedAt,
    muted: session.settings.muted,
    pinned: session.settings.pinned,
    hidden: session.settings.hidden,
    active: session.isMember,
    dissolved: session.dissolved,
  };
}

export function expectedViews(oracle: Oracle, users: readonly string[], conversationIds: readonly string[]): WorldViews {
  const views: WorldViews = { members: {}, histories: {}, unread: {}, sessions: {} };
  for (const conversationId of conversationIds) {
    const conversation = oracle.conversations.get(conversationId);
    views.members[conversationId] = conversation
      ? {
          kind: conversation.kind,
          members: [...conversation.members].map(([userId, role]) => ({ userId, role })).sort((a, b) => (a.userId < b.userId ? -1 : 1)),
          dissolved: conversation.dissolved,
        }
      : null;
    views.histories[conversationId] = (conversation?.items ?? []).map(expectedHistoryItem);
  }
  for (const userId of users) {
    const user = oracle.users.get(userId);
    const active = [...(user?.sessions.values() ?? [])].filter((s) => s.isMember);
    views.unread[userId] = {
      total: unreadTotalOf(user),
      conversations: active.map((s) => ({ conversationId: s.conversationId, unread: s.unread })).sort((a, b) => (a.conversationId < b.conversationId ? -1 : 1)),
    };
    views.sessions[userId] = sessionListOf(user).map(expectedSessionRow);
  }
  return views;
}
