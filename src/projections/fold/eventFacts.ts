// Pure readings of recorded events shared by every projection: which conversation or user an event
// belongs to, its seq, its own time, its timeline item and its preview. One place, so the timeline,
// the inbox and the session list can never disagree on what an event means.
import type { ConversationEvent, DomainEventType, MessageBody, MessageSent } from '../../domain/events.js';
import { CONVERSATION_EVENT_TYPES } from '../../domain/events.js';
import { parseStreamId, seqOf } from '../../domain/streams.js';
import type { RecordedEvent } from '../../store/eventStore.js';
import type { MessageItem, MessagePreview, SystemItem, TimelineItem } from '../types.js';

/** A conversation event with what every projection derives from its envelope. */
export interface ConversationFact {
  conversationId: string;
  seq: number;
  position: bigint;
  type: ConversationEvent['type'];
  data: Record<string, unknown>;
  actorId: string;
  /** The event's own time (e.g. sentAt), ISO string. */
  at: string;
}

/** An event of a user stream (read marks, settings). */
export interface UserFact {
  userId: string;
  conversationId: string;
  position: bigint;
  type: 'ConversationRead' | 'ConversationSettingsChanged';
  data: Record<string, unknown>;
  at: string;
}

export type EventFact = { stream: 'conversation'; fact: ConversationFact } | { stream: 'user'; fact: UserFact } | { stream: 'other' };

/** The data field holding each event's own time. */
const TIME_FIELD: Record<DomainEventType, string> = {
  DirectConversationOpened: 'openedAt',
  GroupCreated: 'createdAt',
  GroupRenamed: 'renamedAt',
  MembersAdded: 'addedAt',
  MemberRemoved: 'removedAt',
  MemberLeft: 'leftAt',
  MemberRoleChanged: 'changedAt',
  GroupDissolved: 'dissolvedAt',
  MessageSent: 'sentAt',
  MessageEdited: 'editedAt',
  MessageRecalled: 'recalledAt',
  ConversationRead: 'readAt',
  ConversationSettingsChanged: 'changedAt',
};

const CONVERSATION_TYPES = new Set<string>(CONVERSATION_EVENT_TYPES);

const asRecord = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

/** The event's own time when it is a valid date, else when it was recorded (kept verbatim otherwise). */
export function eventTime(event: RecordedEvent): string {
  const field = TIME_FIELD[event.type as DomainEventType];
  const value = field ? asRecord(event.data)[field] : undefined;
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return value;
  return event.recordedAt.toISOString();
}

/** Classifies an event by its stream; unknown types in a known stream are 'other' (ignored). */
export function factOf(event: RecordedEvent): EventFact {
  const stream = parseStreamId(event.streamId);
  const data = asRecord(event.data);
  if (stream.kind === 'conversation' && CONVERSATION_TYPES.has(event.type)) {
    return {
      stream: 'conversation',
      fact: {
        conversationId: stream.conversationId,
        seq: seqOf(event.streamPosition),
        position: event.globalPosition,
        type: event.type as ConversationEvent['type'],
        data,
        actorId: event.metadata.actorId,
        at: eventTime(event),
      },
    };
  }
  if (stream.kind === 'user' && (event.type === 'ConversationRead' || event.type === 'ConversationSettingsChanged')) {
    if (typeof data.conversationId !== 'string') return { stream: 'other' };
    return {
      stream: 'user',
      fact: { userId: stream.userId, conversationId: data.conversationId, position: event.globalPosition, type: event.type, data, at: eventTime(event) },
    };
  }
  return { stream: 'other' };
}

/** The timeline item an event adds at its seq. */
export function timelineItemOf(fact: ConversationFact): TimelineItem {
  if (fact.type === 'MessageSent') {
    const data = fact.data as unknown as MessageSent['data'];
    return { messageId: data.messageId, seq: fact.seq, senderId: data.senderId, kind: data.kind, body: asRecord(data.body), sentAt: fact.at };
  }
  const item: SystemItem = { seq: fact.seq, kind: 'system', event: fact.type, actorId: fact.actorId, data: fact.data, at: fact.at };
  return item;
}

/** What an edit or a recall does to the message it targets, as a patch of the item. */
export type ItemPatch = { body: MessageBody; editedAt: string } | { body: Record<string, never>; recalled: true };

/** For MessageEdited/MessageRecalled: the target seq and the patch; null for other events. */
export function itemPatchOf(fact: ConversationFact): { targetSeq: number; patch: ItemPatch } | null {
  const targetSeq = fact.data.seq;
  if (typeof targetSeq !== 'number') return null;
  if (fact.type === 'MessageEdited') return { targetSeq, patch: { body: asRecord(fact.data.body), editedAt: fact.at } };
  if (fact.type === 'MessageRecalled') return { targetSeq, patch: { body: {}, recalled: true } };
  return null;
}

/** Applies a patch to a message item (a system item is left as it is: nothing to edit there). */
export function patchItem(item: TimelineItem, patch: ItemPatch): TimelineItem {
  if (item.kind === 'system') return item;
  if (item.recalled) return item; // a recalled message stays recalled, whatever comes after
  return { ...item, ...patch } as MessageItem;
}

export const PREVIEW_TEXT_MAX = 120;

/** The session-list preview of a message: its text (shortened) unless recalled. */
export function previewOf(item: MessageItem): MessagePreview {
  const preview: MessagePreview = { messageId: item.messageId, seq: item.seq, senderId: item.senderId, kind: item.kind };
  if (item.recalled) return { ...preview, recalled: true };
  const text = item.body.text;
  if (typeof text === 'string') preview.text = [...text].slice(0, PREVIEW_TEXT_MAX).join('');
  return preview;
}

/** First day of the item's UTC month, as 'YYYY-MM-01' (the timeline's partition key). */
export function monthOf(isoTime: string): string {
  const date = new Date(isoTime);
  const month = String(date.getUTCMonth() + 1).padStart(2, '0');
  return `${String(date.getUTCFullYear()).padStart(4, '0')}-${month}-01`;
}
