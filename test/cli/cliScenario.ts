// A small, hand-written history the CLI tests share: a group whose member bob is removed and added
// back, a direct conversation he is not in, read marks, an edit recorded after a pause (so a moment
// "before the edit" exists), and optionally a bulk stream to make output larger than a pipe buffer.
import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import type { DomainEvent } from '../../src/domain/events.js';
import { conversationStreamId, userStreamId } from '../../src/domain/streams.js';
import type { EventStore, NewEvent, RecordedEvent } from '../../src/store/eventStore.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function domainEvent<E extends DomainEvent>(event: E, actorId: string): NewEvent {
  return { eventId: randomUUID(), type: event.type, data: event.data, metadata: { actorId, deviceId: 'cli-test', schemaVersion: 1 } };
}

export interface Scenario {
  groupId: string;
  directId: string;
  /** Each scenario event as recorded, by name. */
  recorded: Record<ScenarioStep, RecordedEvent>;
  /** A moment between the first part and the second part (which holds bob's return and the edit). */
  pause: Date;
}

export type ScenarioStep =
  | 'groupCreated'
  | 'hello'
  | 'bobRead'
  | 'carolAdded'
  | 'bobRemoved'
  | 'carolSays'
  | 'carolRead'
  | 'directOpened'
  | 'directMessage'
  | 'bobAdded'
  | 'bobSays'
  | 'helloEdited'
  | 'aliceRead';

export async function writeScenario(store: EventStore, options: { bulkEvents?: number } = {}): Promise<Scenario> {
  const groupId = uuidv7();
  const directId = `direct-${randomUUID()}`;
  const group = conversationStreamId(groupId);
  const direct = conversationStreamId(directId);
  const at = () => new Date().toISOString();
  const recorded: Partial<Record<ScenarioStep, RecordedEvent>> = {};
  const append = async (step: ScenarioStep, streamId: string, event: DomainEvent, actorId: string) => {
    const result = await store.append(streamId, [domainEvent(event, actorId)], 'any');
    recorded[step] = result.events[0]!.record;
  };
  const helloId = uuidv7();

  if (options.bulkEvents) await writeBulk(store, options.bulkEvents);
  await append('groupCreated', group, { type: 'GroupCreated', data: { conversationId: groupId, name: 'Team', ownerId: 'alice', memberIds: ['alice', 'bob'], createdAt: at() } }, 'alice');
  await append('hello', group, { type: 'MessageSent', data: { messageId: helloId, senderId: 'alice', clientMsgId: 'c1', kind: 'text', body: { text: 'hello' }, sentAt: at() } }, 'alice');
  await append('bobRead', userStreamId('bob'), { type: 'ConversationRead', data: { conversationId: groupId, seq: 2, deviceId: 'phone', readAt: at() } }, 'bob');
  await append('carolAdded', group, { type: 'MembersAdded', data: { userIds: ['carol'], addedBy: 'alice', addedAt: at() } }, 'alice');
  await append('bobRemoved', group, { type: 'MemberRemoved', data: { userId: 'bob', removedBy: 'alice', removedAt: at() } }, 'alice');
  await append('carolSays', group, { type: 'MessageSent', data: { messageId: uuidv7(), senderId: 'carol', clientMsgId: 'c2', kind: 'text', body: { text: 'bob is gone' }, sentAt: at() } }, 'carol');
  await append('carolRead', userStreamId('carol'), { type: 'ConversationRead', data: { conversationId: groupId, seq: 5, deviceId: 'laptop', readAt: at() } }, 'carol');
  await append('directOpened', direct, { type: 'DirectConversationOpened', data: { conversationId: directId, memberIds: ['alice', 'carol'], openedBy: 'carol', openedAt: at() } }, 'carol');
  await append('directMessage', direct, { type: 'MessageSent', data: { messageId: uuidv7(), senderId: 'carol', clientMsgId: 'c3', kind: 'text', body: { text: 'hi alice' }, sentAt: at() } }, 'carol');

  // recordedAt has millisecond precision once read into a Date: a pause well above that separates the parts.
  await sleep(40);
  const pause = new Date();
  await sleep(40);

  await append('bobAdded', group, { type: 'MembersAdded', data: { userIds: ['bob'], addedBy: 'alice', addedAt: at() } }, 'alice');
  await append('bobSays', group, { type: 'MessageSent', data: { messageId: uuidv7(), senderId: 'bob', clientMsgId: 'c4', kind: 'text', body: { text: 'back' }, sentAt: at() } }, 'bob');
  await append('helloEdited', group, { type: 'MessageEdited', data: { messageId: helloId, seq: 2, body: { text: 'hello, team' }, editedBy: 'alice', editedAt: at() } }, 'alice');
  await append('aliceRead', userStreamId('alice'), { type: 'ConversationRead', data: { conversationId: groupId, seq: 8, deviceId: 'web', readAt: at() } }, 'alice');
  await waitUntilReadable(store, recorded.aliceRead!.globalPosition);
  return { groupId, directId, recorded: recorded as Record<ScenarioStep, RecordedEvent>, pause };
}

/**
 * Global-order readers see an event only once every transaction older than it has ended, in the whole
 * PostgreSQL cluster: another test file holding a transaction open would hide the scenario's tail for
 * a while. Waiting here makes what the tests expect and what the CLI reads the same log.
 */
async function waitUntilReadable(store: EventStore, position: bigint, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await store.headPosition()) < position) {
    if (Date.now() > deadline) throw new Error(`position ${position} not readable after ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Events in a stream of their own, about 300 bytes each, appended in batches. */
async function writeBulk(store: EventStore, count: number): Promise<void> {
  const streamId = `bulk-${randomUUID()}`;
  for (let written = 0; written < count; written += 250) {
    const batch = Array.from({ length: Math.min(250, count - written) }, (_, i) => ({
      eventId: randomUUID(),
      type: 'BulkLoaded',
      data: { n: written + i, padding: 'x'.repeat(200) },
      metadata: { actorId: 'loader', schemaVersion: 1 },
    }));
    await store.append(streamId, batch, 'any');
  }
}
