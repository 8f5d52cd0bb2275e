// Test helpers for the projection tests: a writer that appends domain events straight to a store
// (no deciders: each test states exactly the log it wants), and a fixture that gives a test file a
// migrated database, a PostgreSQL event store and a projection runner.
import { randomUUID } from 'node:crypto';
import { SCHEMA_VERSION } from '../../src/domain/events.js';
import { conversationStreamId, userStreamId } from '../../src/domain/streams.js';
import type { EventStore } from '../../src/store/eventStore.js';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';
import { createProjectionRunner, ensureProjectionSchemas, type ProjectionRunnerOptions } from '../../src/projections/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

export const newId = (): string => randomUUID();

/** Appends hand-written events; times advance one second per event from `start` (or set with `at`). */
export function createLogWriter(store: EventStore, start = Date.parse('2025-01-15T10:00:00.000Z')) {
  const revisions = new Map<string, number>();
  let clock = start;
  const now = () => new Date((clock += 1000)).toISOString();

  async function append(streamId: string, type: string, data: Record<string, unknown>, actorId: string): Promise<number> {
    const expected = revisions.get(streamId) ?? -1;
    const result = await store.append(streamId, [{ eventId: randomUUID(), type, data, metadata: { actorId, schemaVersion: SCHEMA_VERSION } }], expected);
    revisions.set(streamId, result.nextExpectedRevision);
    return result.nextExpectedRevision + 1; // the seq of a conversation event
  }
  const conv = (c: string, type: string, data: Record<string, unknown>, actorId: string) => append(conversationStreamId(c), type, data, actorId);

  return {
    /** Moves the clock (e.g. to another month). */
    setTime(iso: string) {
      clock = Date.parse(iso) - 1000;
    },
    direct: (c: string, a: string, b: string) => conv(c, 'DirectConversationOpened', { conversationId: c, memberIds: [a, b], openedBy: a, openedAt: now() }, a),
    group: (c: string, ownerId: string, memberIds: string[], name = 'group') =>
      conv(c, 'GroupCreated', { conversationId: c, name, ownerId, memberIds: [ownerId, ...memberIds], createdAt: now() }, ownerId),
    rename: (c: string, by: string, name: string) => conv(c, 'GroupRenamed', { name, renamedBy: by, renamedAt: now() }, by),
    add: (c: string, by: string, userIds: string[]) => conv(c, 'MembersAdded', { userIds, addedBy: by, addedAt: now() }, by),
    remove: (c: string, by: string, userId: string) => conv(c, 'MemberRemoved', { userId, removedBy: by, removedAt: now() }, by),
    leave: (c: string, userId: string) => conv(c, 'MemberLeft', { userId, leftAt: now() }, userId),
    role: (c: string, by: string, userId: string, role: string) => conv(c, 'MemberRoleChanged', { userId, role, changedBy: by, changedAt: now() }, by),
    dissolve: (c: string, by: string) => conv(c, 'GroupDissolved', { dissolvedBy: by, dissolvedAt: now() }, by),
    /** Sends a text message; resolves to { seq, messageId }. */
    async send(c: string, senderId: string, text = 'hello', kind = 'text') {
      const messageId = randomUUID();
      const body = kind === 'text' ? { text } : { url: text };
      const seq = await conv(c, 'MessageSent', { messageId, senderId, clientMsgId: randomUUID(), kind, body, sentAt: now() }, senderId);
      return { seq, messageId };
    },
    edit: (c: string, by: string, target: { seq: number; messageId: string }, text: string) =>
      conv(c, 'MessageEdited', { messageId: target.messageId, seq: target.seq, body: { text }, editedBy: by, editedAt: now() }, by),
    recall: (c: string, by: string, target: { seq: number; messageId: string }) =>
      conv(c, 'MessageRecalled', { messageId: target.messageId, seq: target.seq, recalledBy: by, recalledAt: now() }, by),
    read: (userId: string, c: string, seq: number, deviceId = 'd1') =>
      append(userStreamId(userId), 'ConversationRead', { conversationId: c, seq, deviceId, readAt: now() }, userId),
    settings: (userId: string, c: string, settings: { muted?: boolean; pinned?: boolean; hidden?: boolean }) =>
      append(userStreamId(userId), 'ConversationSettingsChanged', { conversationId: c, ...settings, changedAt: now() }, userId),
  };
}

export type LogWriter = ReturnType<typeof createLogWriter>;

export interface ProjectionFixture {
  db: TestDatabase;
  store: EventStore;
  log: LogWriter;
  runner: ReturnType<typeof createProjectionRunner>;
  close(): Promise<void>;
}

/** A fresh database with the event store, the live schemas and a runner (not started: tests call runner.catchUp()). */
export async function createProjectionFixture(options: Partial<ProjectionRunnerOptions> = {}): Promise<ProjectionFixture> {
  const db = await createTestDatabase();
  const store = createPostgresEventStore({ pool: db.pool, notify: false, pollIntervalMs: 50 });
  const runner = createProjectionRunner({ pool: db.pool, store, fanoutLimit: 500, pollIntervalMs: 50, ...options });
  await ensureProjectionSchemas(db.pool);
  return {
    db,
    store,
    log: createLogWriter(store),
    runner,
    async close() {
      await runner.stop();
      await store.close();
      await db.drop();
    },
  };
}
