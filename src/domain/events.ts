// The events of Missive (DESIGN.md §3): the only facts the system records. Each event's `data` is
// immutable once stored; a change of shape adds a new schemaVersion and an upcaster, never a rewrite.

export type MemberRole = 'owner' | 'admin' | 'member';
export type MessageKind = 'text' | 'image' | 'file' | 'custom';
/** A message body is a JSON object; for `text` it is `{ text: string }`. */
export type MessageBody = Record<string, unknown>;

// ---- conversation-<conversationId> stream ----

export interface DirectConversationOpened {
  type: 'DirectConversationOpened';
  data: { conversationId: string; memberIds: [string, string]; openedBy: string; openedAt: string };
}
export interface GroupCreated {
  type: 'GroupCreated';
  /** memberIds includes the owner. */
  data: { conversationId: string; name: string; ownerId: string; memberIds: string[]; createdAt: string };
}
export interface GroupRenamed {
  type: 'GroupRenamed';
  data: { name: string; renamedBy: string; renamedAt: string };
}
export interface MembersAdded {
  type: 'MembersAdded';
  data: { userIds: string[]; addedBy: string; addedAt: string };
}
export interface MemberRemoved {
  type: 'MemberRemoved';
  data: { userId: string; removedBy: string; removedAt: string };
}
export interface MemberLeft {
  type: 'MemberLeft';
  data: { userId: string; leftAt: string };
}
export interface MemberRoleChanged {
  type: 'MemberRoleChanged';
  data: { userId: string; role: MemberRole; changedBy: string; changedAt: string };
}
export interface GroupDissolved {
  type: 'GroupDissolved';
  data: { dissolvedBy: string; dissolvedAt: string };
}
export interface MessageSent {
  type: 'MessageSent';
  /** The message's seq is not stored: it is the event's stream position + 1. */
  data: { messageId: string; senderId: string; clientMsgId: string; kind: MessageKind; body: MessageBody; sentAt: string };
}
export interface MessageEdited {
  type: 'MessageEdited';
  data: { messageId: string; seq: number; body: MessageBody; editedBy: string; editedAt: string };
}
export interface MessageRecalled {
  type: 'MessageRecalled';
  data: { messageId: string; seq: number; recalledBy: string; recalledAt: string };
}

export type ConversationEvent =
  | DirectConversationOpened
  | GroupCreated
  | GroupRenamed
  | MembersAdded
  | MemberRemoved
  | MemberLeft
  | MemberRoleChanged
  | GroupDissolved
  | MessageSent
  | MessageEdited
  | MessageRecalled;

// ---- user-<userId> stream ----

export interface ConversationRead {
  type: 'ConversationRead';
  /** seq is already clamped to the conversation's last seq and above the previous mark. */
  data: { conversationId: string; seq: number; deviceId: string; readAt: string };
}
export interface ConversationSettingsChanged {
  type: 'ConversationSettingsChanged';
  /** Only the settings present changed. */
  data: { conversationId: string; muted?: boolean; pinned?: boolean; hidden?: boolean; changedAt: string };
}

export type UserEvent = ConversationRead | ConversationSettingsChanged;

export type DomainEvent = ConversationEvent | UserEvent;
export type DomainEventType = DomainEvent['type'];

export const CONVERSATION_EVENT_TYPES = [
  'DirectConversationOpened',
  'GroupCreated',
  'GroupRenamed',
  'MembersAdded',
  'MemberRemoved',
  'MemberLeft',
  'MemberRoleChanged',
  'GroupDissolved',
  'MessageSent',
  'MessageEdited',
  'MessageRecalled',
] as const satisfies readonly ConversationEvent['type'][];

export const USER_EVENT_TYPES = ['ConversationRead', 'ConversationSettingsChanged'] as const satisfies readonly UserEvent['type'][];

export const SCHEMA_VERSION = 1;
