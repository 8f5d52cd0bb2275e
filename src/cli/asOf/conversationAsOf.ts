// Reconstructs a conversation as it stood at a past moment (a time or a global position), from the
// log alone: the conversation stream folded up to the moment with the domain's evolve, its messages
// as they stood, and each member's read mark from their own stream up to the same moment.
import { evolveConversation, initialConversationState, type ConversationState } from '../../domain/conversation.js';
import { CONVERSATION_EVENT_TYPES, USER_EVENT_TYPES, type ConversationEvent, type MemberRole, type UserEvent } from '../../domain/events.js';
import { conversationStreamId, seqOf, userStreamId } from '../../domain/streams.js';
import { evolveUser, initialUserState, readMark } from '../../domain/user.js';
import type { EventStore, RecordedEvent } from '../../store/eventStore.js';
import { CliInputError } from '../cliErrors.js';
import type { AsOf } from '../parseOptions.js';
import { streamEvents } from '../readPages.js';
import { createMessageFold, type MessageAsItStood } from './messagesAsTheyStood.js';

export interface ConversationAsOf {
  conversationId: string;
  asOf: { position: string } | { time: string };
  /** The last event of the conversation stream that the moment includes. */
  lastEvent: { globalPosition: string; recordedAt: string; seq: number };
  kind: 'direct' | 'group';
  /** The group's name at the moment; null for a direct conversation. */
  title: string | null;
  dissolved: boolean;
  members: Array<{ userId: string; role: MemberRole; lastReadSeq: number }>;
  messages: MessageAsItStood[];
}

const CONVERSATION_TYPES = new Set<string>(CONVERSATION_EVENT_TYPES);
const USER_TYPES = new Set<string>(USER_EVENT_TYPES);

// A stored event of a known type is that domain event (type and data); others are skipped by the folds.
const asConversationEvent = (event: RecordedEvent) => (CONVERSATION_TYPES.has(event.type) ? (event as unknown as ConversationEvent) : undefined);
const asUserEvent = (event: RecordedEvent) => (USER_TYPES.has(event.type) ? (event as unknown as UserEvent) : undefined);

/** How many members' streams are read at once. */
const READ_MARK_CONCURRENCY = 4;

/**
 * Whether an event belongs to the moment. A stream is folded up to its first event outside it: by
 * position that is exact; by time (recordedAt, millisecond precision) it keeps the fold a gapless
 * prefix even if two appends' clocks and commit order disagree by a hair.
 */
export const withinMoment = (event: RecordedEvent, asOf: AsOf): boolean =>
  asOf.kind === 'position' ? event.globalPosition <= asOf.position : event.recordedAt <= asOf.time;

export async function conversationAsOf(store: EventStore, conversationId: string, asOf: AsOf): Promise<ConversationAsOf> {
  let state: ConversationState = initialConversationState;
  let last: RecordedEvent | undefined;
  let streamExists = false;
  const messages = createMessageFold();
  for await (const event of streamEvents(store, conversationStreamId(conversationId))) {
    streamExists = true;
    if (!withinMoment(event, asOf)) break;
    const seq = seqOf(event.streamPosition);
    const known = asConversationEvent(event);
    if (known) {
      state = evolveConversation(state, known, seq);
      messages.apply(known, seq);
    }
    last = event;
  }
  if (!streamExists) throw new CliInputError('unknown_conversation', `no conversation ${conversationId}`);
  if (state.status !== 'open' || !last) {
    throw new CliInputError('unknown_conversation', `conversation ${conversationId} did not exist yet at ${describeMoment(asOf)}`);
  }
  const memberIds = [...state.members.keys()];
  const marks = await mapWithConcurrency(memberIds, READ_MARK_CONCURRENCY, (userId) => readMarkAsOf(store, userId, conversationId, asOf));
  return {
    conversationId,
    asOf: asOf.kind === 'position' ? { position: asOf.position.toString() } : { time: asOf.time.toISOString() },
    lastEvent: { globalPosition: last.globalPosition.toString(), recordedAt: last.recordedAt.toISOString(), seq: seqOf(last.streamPosition) },
    kind: state.kind,
    title: state.name,
    dissolved: state.dissolved,
    members: memberIds.map((userId, i) => ({ userId, role: state.members.get(userId)!, lastReadSeq: marks[i]! })),
    messages: messages.list(),
  };
}

export const describeMoment = (asOf: AsOf): string => (asOf.kind === 'position' ? `position ${asOf.position}` : asOf.time.toISOString());

async function readMarkAsOf(store: EventStore, userId: string, conversationId: string, asOf: AsOf): Promise<number> {
  let state = initialUserState;
  for await (const event of streamEvents(store, userStreamId(userId))) {
    if (!withinMoment(event, asOf)) break;
    const known = asUserEvent(event);
    if (known) state = evolveUser(state, known);
  }
  return readMark(state, conversationId);
}

async function mapWithConcurrency<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
