// The shapes the projections serve (DESIGN.md §5, §7): timeline items, session rows, unread, sync
// deltas and cursors. Query functions return these; the API layer serialises them unchanged.
import type { ConversationEvent, MemberRole, MessageBody, MessageKind } from '../domain/events.js';

export type ConversationKind = 'direct' | 'group';

/** A message as history shows it, edits and recall applied. */
export interface MessageItem {
  messageId: string;
  seq: number;
  senderId: string;
  kind: MessageKind;
  body: MessageBody;
  sentAt: string;
  editedAt?: string;
  recalled?: true;
}

/** Any other conversation event: it takes a seq too, so the history is gapless. */
export interface SystemItem {
  seq: number;
  kind: 'system';
  event: Exclude<ConversationEvent['type'], 'MessageSent'>;
  actorId: string;
  data: Record<string, unknown>;
  at: string;
}

export type TimelineItem = MessageItem | SystemItem;

export const isMessageItem = (item: TimelineItem): item is MessageItem => item.kind !== 'system';

/** The small preview of a conversation's last message in the session list. */
export interface MessagePreview {
  messageId: string;
  seq: number;
  senderId: string;
  kind: MessageKind;
  text?: string;
  recalled?: true;
}

/** One conversation in a user's list (DESIGN.md §7), plus the user's settings and membership. */
export interface SessionRow {
  conversationId: string;
  kind: ConversationKind;
  /** Group name; for a direct conversation, the peer's user id. */
  title: string;
  lastSeq: number;
  lastMessage: MessagePreview | null;
  unread: number;
  lastReadSeq: number;
  /** ISO time of the last conversation event the user received. */
  updatedAt: string;
  muted: boolean;
  pinned: boolean;
  hidden: boolean;
  /** false once the user left or was removed (the row is frozen as of that event). */
  active: boolean;
  dissolved: boolean;
}

export interface SessionPage {
  items: SessionRow[];
  nextCursor: string | null;
}

export interface UnreadSummary {
  total: number;
  conversations: Array<{ conversationId: string; unread: number }>;
}

export interface MembersView {
  kind: ConversationKind;
  members: Array<{ userId: string; role: MemberRole }>;
  dissolved: boolean;
}

export interface HistoryPage {
  items: TimelineItem[];
}

/** Where a device is in its sync (the API engineer wraps it into an opaque token). */
export interface SyncCursor {
  inboxSeq: number;
  /** Large (read fan-out) groups: conversation id → last seq seen. */
  groups: Record<string, number>;
  /** Epoch of the projections serving sync (the inbox projection's). */
  epoch: number;
}

export interface ConversationDeltaItem {
  type: 'item';
  conversationId: string;
  seq: number;
  item: TimelineItem;
}

export interface ReadDeltaItem {
  type: 'read';
  conversationId: string;
  /** The mark this event asked for (the session row carries the effective mark). */
  seq: number;
  deviceId: string;
  at: string;
}

export interface SettingsDeltaItem {
  type: 'settings';
  conversationId: string;
  muted?: boolean;
  pinned?: boolean;
  hidden?: boolean;
  at: string;
}

export type DeltaItem = ConversationDeltaItem | ReadDeltaItem | SettingsDeltaItem;

export interface Delta {
  items: DeltaItem[];
  /** Session rows of the conversations the returned items touched (all rows when there was no cursor). */
  conversations: SessionRow[];
  unreadTotal: number;
  nextCursor: SyncCursor;
  hasMore: boolean;
}
