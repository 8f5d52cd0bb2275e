import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createCommandHandler } from '../../src/app/commandHandler.js';
import { CommandRejectedError, type CommandService } from '../../src/app/commandService.js';
import { DEFAULT_LIMITS } from '../../src/domain/limits.js';
import { conversationStreamId } from '../../src/domain/streams.js';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';
import { createMemoryEventStore } from '../../src/store/memory/memoryEventStore.js';
import type { EventStore } from '../../src/store/eventStore.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const text = (t: string) => ({ kind: 'text' as const, body: { text: t } });
const as = (actorId: string, deviceId = 'd1') => ({ actorId, deviceId });

async function rejectionCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CommandRejectedError) return e.code;
    throw e;
  }
  throw new Error('expected a rejection');
}

function describeCommandHandler(name: string, makeStore: () => Promise<{ store: EventStore; dispose(): Promise<void> }>) {
  describe(`command handler on ${name}`, () => {
    let store: EventStore;
    let dispose: () => Promise<void>;
    let handler: CommandService;
    beforeAll(async () => {
      ({ store, dispose } = await makeStore());
      handler = createCommandHandler({ store, limits: DEFAULT_LIMITS });
    });
    afterAll(async () => dispose());

    it('opens a direct conversation once, whoever opens it and however often', async () => {
      const [a, b] = await Promise.all([handler.openDirect(as('alice'), 'bob'), handler.openDirect(as('bob'), 'alice')]);
      expect(a.conversationId).toBe(b.conversationId);
      expect([a.created, b.created].filter(Boolean)).toHaveLength(1);
      // A second node (its own cache) racing the same open just reads the winner's event.
      const other = createCommandHandler({ store, limits: DEFAULT_LIMITS });
      expect(await other.openDirect(as('alice'), 'bob')).toEqual({ conversationId: a.conversationId, created: false });
      expect(await store.readStream(conversationStreamId(a.conversationId))).toHaveLength(1);
    });

    it('gives concurrent sends consecutive seqs with no holes and no duplicates', async () => {
      const { conversationId } = await handler.createGroup(as('owner'), { name: 'g', memberIds: ['m1', 'm2', 'm3'] });
      const senders = ['owner', 'm1', 'm2', 'm3'];
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => handler.sendMessage(as(senders[i % 4]!), conversationId, { clientMsgId: `c${i}`, ...text(`hi ${i}`) })),
      );
      const seqs = results.map((r) => r.seq).sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: 200 }, (_, i) => i + 2)); // seq 1 is GroupCreated
      expect(new Set(results.map((r) => r.messageId)).size).toBe(200);
      expect(results.every((r) => !r.duplicate)).toBe(true);
      // Each sender's own sends keep their submission order.
      for (const s of senders) {
        const own = results.filter((_, i) => senders[i % 4] === s).map((r) => r.seq);
        expect(own).toEqual([...own].sort((x, y) => x - y));
      }
    });

    it('answers a retried send with the original messageId, seq and sentAt — racing, later, and after a restart', async () => {
      const { conversationId } = await handler.openDirect(as('carol'), 'dave');
      const send = () => handler.sendMessage(as('carol'), conversationId, { clientMsgId: 'retry-1', ...text('once') });
      const [first, racing] = await Promise.all([send(), send()]);
      const later = await send();
      const restarted = await createCommandHandler({ store, limits: DEFAULT_LIMITS }).sendMessage(as('carol'), conversationId, {
        clientMsgId: 'retry-1',
        ...text('once'),
      });
      for (const r of [racing, later, restarted]) {
        expect({ ...r, duplicate: false }).toEqual({ ...first, duplicate: false });
        expect(r.duplicate).toBe(true);
      }
      expect(first.duplicate).toBe(false);
      const events = await store.readStream(conversationStreamId(conversationId));
      expect(events.filter((e) => e.type === 'MessageSent')).toHaveLength(1);
    });

    it('keeps seqs gapless when two nodes send into one conversation at once', async () => {
      const nodeA = createCommandHandler({ store, limits: DEFAULT_LIMITS });
      const nodeB = createCommandHandler({ store, limits: DEFAULT_LIMITS });
      const { conversationId } = await nodeA.createGroup(as('o'), { name: 'two nodes', memberIds: ['x', 'y'] });
      const sends = Array.from({ length: 60 }, (_, i) =>
        (i % 2 ? nodeA : nodeB).sendMessage(as(i % 3 ? 'x' : 'y'), conversationId, { clientMsgId: `n${i % 50}-${i % 3 ? 'x' : 'y'}`, ...text(`m${i}`) }),
      );
      const results = await Promise.all(sends);
      const events = await store.readStream(conversationStreamId(conversationId));
      expect(events.map((e) => e.streamPosition)).toEqual(events.map((_, i) => i));
      const distinctIds = new Set(results.map((r) => r.messageId));
      expect(events.filter((e) => e.type === 'MessageSent')).toHaveLength(distinctIds.size);
    });

    it('refuses non-members and bad input, appending nothing', async () => {
      const { conversationId } = await handler.openDirect(as('erin'), 'frank');
      const before = await store.headPosition();
      expect(await rejectionCode(handler.sendMessage(as('mallory'), conversationId, { clientMsgId: 'x', ...text('hi') }))).toBe('conversation_not_found');
      expect(await rejectionCode(handler.sendMessage(as('erin'), conversationId, { clientMsgId: 'y', kind: 'text', body: { text: '' } }))).toMatch(/invalid/);
      expect(await rejectionCode(handler.renameGroup(as('erin'), conversationId, 'nope'))).toBe('not_a_group');
      expect(await store.headPosition()).toBe(before);
    });

    it('keeps read marks monotonic and clamps them to the last seq', async () => {
      const { conversationId } = await handler.openDirect(as('gina'), 'hank');
      for (let i = 0; i < 3; i++) await handler.sendMessage(as('hank'), conversationId, { clientMsgId: `r${i}`, ...text('x') });
      expect(await handler.markRead(as('gina', 'phone'), conversationId, 3)).toEqual({ seq: 3 });
      expect(await handler.markRead(as('gina', 'laptop'), conversationId, 2)).toEqual({ seq: 3 });
      expect(await handler.markRead(as('gina'), conversationId, 99)).toEqual({ seq: 4 });
      expect(await rejectionCode(handler.markRead(as('ivan'), conversationId, 1))).toBe('conversation_not_found');
    });

    it('lets the sender edit and recall within the window', async () => {
      const { conversationId } = await handler.openDirect(as('jo'), 'kim');
      const sent = await handler.sendMessage(as('jo'), conversationId, { clientMsgId: 'e1', ...text('helo') });
      expect(await rejectionCode(handler.editMessage(as('kim'), conversationId, sent.messageId, { text: 'hack' }))).toBe('not_message_sender');
      const edited = await handler.editMessage(as('jo'), conversationId, sent.messageId, { text: 'hello' });
      expect(edited.seq).toBe(sent.seq + 1);
      const recalled = await handler.recallMessage(as('jo'), conversationId, sent.messageId);
      expect(recalled.seq).toBe(sent.seq + 2);
      expect(await rejectionCode(handler.recallMessage(as('jo'), conversationId, sent.messageId))).toBe('message_recalled');
    });
  });
}

describeCommandHandler('the memory store', async () => ({ store: createMemoryEventStore(), dispose: async () => {} }));

describeCommandHandler('PostgreSQL', async () => {
  const db: TestDatabase = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 10 });
  const store = createPostgresEventStore({ pool });
  return {
    store,
    dispose: async () => {
      await store.close();
      await pool.end();
      await db.drop();
    },
  };
});
