// A synthetic IM log for throughput measurements, appended in large per-stream chunks so that
// writing it costs little next to projecting it: direct chats and groups, mostly messages, some
// read marks, a few edits and recalls.
import { randomUUID } from 'node:crypto';
import { SCHEMA_VERSION } from '../../../src/domain/events.js';
import { conversationStreamId, userStreamId } from '../../../src/domain/streams.js';
import type { EventStore, NewEvent } from '../../../src/store/eventStore.js';
import { seededRandom } from '../randomHistory.js';

export interface SyntheticLogOptions {
  directs: number;
  groups: number;
  groupSize: number;
  messagesPerConversation: number;
  seed?: number;
}

const event = (type: string, data: Record<string, unknown>, actorId: string): NewEvent => ({
  eventId: randomUUID(),
  type,
  data,
  metadata: { actorId, schemaVersion: SCHEMA_VERSION },
});

/** Appends the log; returns the number of events written. */
export async function writeSyntheticLog(store: EventStore, options: SyntheticLogOptions): Promise<number> {
  const random = seededRandom(options.seed ?? 7);
  const users = Array.from({ length: Math.max(50, options.groupSize * 4) }, () => randomUUID());
  const at = (i: number) => new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString();
  let written = 0;
  const reads = new Map<string, NewEvent[]>();

  const conversation = async (members: string[], group: boolean) => {
    const c = randomUUID();
    const events: NewEvent[] = [
      group
        ? event('GroupCreated', { conversationId: c, name: `g-${c.slice(0, 4)}`, ownerId: members[0], memberIds: members, createdAt: at(0) }, members[0]!)
        : event('DirectConversationOpened', { conversationId: c, memberIds: members, openedBy: members[0], openedAt: at(0) }, members[0]!),
    ];
    for (let i = 1; i <= options.messagesPerConversation; i++) {
      const sender = members[Math.floor(random() * members.length)]!;
      const seq = events.length + 1;
      const messageId = randomUUID();
      events.push(event('MessageSent', { messageId, senderId: sender, clientMsgId: messageId, kind: 'text', body: { text: `message ${i}` }, sentAt: at(i) }, sender));
      const roll = random();
      if (roll < 0.03) events.push(event('MessageEdited', { messageId, seq, body: { text: 'edited' }, editedBy: sender, editedAt: at(i) }, sender));
      else if (roll < 0.05) events.push(event('MessageRecalled', { messageId, seq, recalledBy: sender, recalledAt: at(i) }, sender));
      if (random() < 0.1) {
        const reader = members[Math.floor(random() * members.length)]!;
        const list = reads.get(reader) ?? [];
        list.push(event('ConversationRead', { conversationId: c, seq: events.length, deviceId: 'd', readAt: at(i) }, reader));
        reads.set(reader, list);
      }
    }
    for (let start = 0; start < events.length; start += 200) {
      await store.append(conversationStreamId(c), events.slice(start, start + 200), 'any');
    }
    written += events.length;
  };

  const pick = (n: number) => [...users].sort(() => random() - 0.5).slice(0, n);
  for (let i = 0; i < options.directs; i++) await conversation(pick(2), false);
  for (let i = 0; i < options.groups; i++) await conversation(pick(options.groupSize), true);
  for (const [userId, events] of reads) {
    for (let start = 0; start < events.length; start += 200) await store.append(userStreamId(userId), events.slice(start, start + 200), 'any');
    written += events.length;
  }
  return written;
}
