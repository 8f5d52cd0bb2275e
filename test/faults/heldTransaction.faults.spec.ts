// A transaction held open while later ones commit (DESIGN.md §10: sequence order is not commit order).
// The store contract proves a subscription delivers such a late commit (test/contract); this is the same
// promise one level up, for the live projection runner: while an append to a group stays uncommitted,
// appends to other streams commit after it, and no projection may move its checkpoint past the held
// event (it would skip it for good). Once it commits, every projection has it, in its place.
// It stays in the fault suite beside the other fault scenarios; since migrations/004 the held transaction
// holds back reads only in its own database, so it no longer disturbs test files running beside it.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../src/domain/events.js';
import { conversationStreamId } from '../../src/domain/streams.js';
import { ALL_PROJECTIONS, getHistory, getUnread, readCheckpoints, verifyProjection } from '../../src/projections/index.js';
import { createPostgresEventStore, type PostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';
import { createProjectionFixture, newId, type ProjectionFixture } from '../projections/support.js';

const NAMES = ALL_PROJECTIONS.map((p) => p.name);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a transaction held open while later ones commit', () => {
  let fx: ProjectionFixture;
  let store: PostgresEventStore;
  beforeAll(async () => {
    fx = await createProjectionFixture({ fanoutLimit: 3, batchSize: 5, pollIntervalMs: 20 });
    store = createPostgresEventStore({ pool: fx.db.pool, notify: false });
  });
  afterAll(async () => {
    await store?.close();
    await fx?.close();
  });

  async function checkpointsNow(): Promise<bigint[]> {
    const found = await readCheckpoints(fx.db.pool, NAMES);
    return NAMES.map((n) => found.get(n)?.position ?? 0n);
  }

  async function untilCaughtUp(): Promise<void> {
    const { rows } = await fx.db.pool.query<{ last: string }>('SELECT max(global_position)::text AS last FROM events');
    for (const deadline = Date.now() + 10_000; ; await sleep(20)) {
      if ((await checkpointsNow()).every((p) => p >= BigInt(rows[0]!.last))) return;
      if (Date.now() > deadline) throw new Error('the runner did not catch up');
    }
  }

  it('is skipped by no projection: checkpoints wait below it, then every view has it', async () => {
    const [group, direct] = [newId(), newId()];
    await fx.log.group(group, 'ann', ['bob', 'cid'], 'held');
    await fx.log.direct(direct, 'ann', 'bob');
    await fx.runner.start();
    await untilCaughtUp(); // the runner is live and current before the held append begins

    const messageId = randomUUID();
    const held = await store.beginAppend(
      conversationStreamId(group),
      [{ eventId: randomUUID(), type: 'MessageSent', data: { messageId, senderId: 'cid', clientMsgId: 'held-1', kind: 'text', body: { text: 'late commit' }, sentAt: new Date().toISOString() }, metadata: { actorId: 'cid', schemaVersion: SCHEMA_VERSION } }],
      0,
    );
    const heldPosition = held.result.events[0]!.record.globalPosition;
    try {
      // Later appends to other streams commit while it is open; the runner is awake and polling.
      for (let i = 0; i < 12; i++) await fx.log.send(direct, i % 2 ? 'ann' : 'bob', `after ${i}`);
      await fx.log.read('bob', direct, 5);
      await sleep(600);
      for (const position of await checkpointsNow()) expect(position, 'a checkpoint passed the uncommitted event').toBeLessThan(heldPosition);
    } finally {
      await held.commit();
    }

    await untilCaughtUp();
    const history = await getHistory(fx.db.pool, group, { limit: 10 });
    expect(history.items.map((i) => i.seq)).toEqual([1, 2]);
    expect(history.items[1]).toMatchObject({ seq: 2, messageId, body: { text: 'late commit' } });
    expect((await getUnread(fx.db.pool, 'ann')).conversations).toContainEqual({ conversationId: group, unread: 1 });
    for (const name of NAMES) expect(await verifyProjection({ pool: fx.db.pool, store: fx.store, fanoutLimit: 3 }, name), name).toEqual([]);
  });
});
