import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_PROJECTIONS, createProjectionRunner, getDelta, readSyncFence } from '../../../src/projections/index.js';
import { createProjectionFixture, newId, type ProjectionFixture } from '../support.js';

let fx: ProjectionFixture;
beforeAll(async () => {
  fx = await createProjectionFixture();
});
afterAll(async () => fx.close());

describe('getDelta across projections at different checkpoints', () => {
  it('returns only items every sync projection has applied, the rest on a later pull', async () => {
    const [ann, bob] = [newId(), newId()];
    const c = newId();
    await fx.runner.catchUp();
    const start = (await getDelta(fx.db.pool, bob, null, 10)).nextCursor;
    await fx.log.direct(c, ann, bob);
    await fx.log.send(c, ann, 'one');

    // The inbox and sessions move on; the timeline (which holds the payloads) stays behind.
    const partial = createProjectionRunner({
      pool: fx.db.pool,
      store: fx.store,
      fanoutLimit: 500,
      projections: ALL_PROJECTIONS.filter((p) => p.name !== 'timeline'),
    });
    await partial.catchUp();
    const fence = await readSyncFence(fx.db.pool);
    const held = await getDelta(fx.db.pool, bob, start, 10);
    expect(held.items).toEqual([]);
    expect(held.nextCursor.inboxSeq).toBe(start.inboxSeq);
    expect(fence.position).toBeLessThan(await fx.store.headPosition());

    await fx.runner.catchUp();
    const released = await getDelta(fx.db.pool, bob, held.nextCursor, 10);
    expect(released.items.map((i) => (i.type === 'item' ? [i.seq, i.item.kind] : null))).toEqual([
      [1, 'system'],
      [2, 'text'],
    ]);
    expect(released.conversations).toMatchObject([{ conversationId: c, unread: 1, lastSeq: 2, title: ann }]);
    expect(released.unreadTotal).toBe(1);
  });

  it('pages with limit and hasMore, never repeating an item', async () => {
    const [ann, bob] = [newId(), newId()];
    const c = newId();
    const cursor0 = (await getDelta(fx.db.pool, bob, null, 10)).nextCursor;
    await fx.log.direct(c, ann, bob);
    for (let i = 0; i < 6; i++) await fx.log.send(c, ann, `m${i}`);
    await fx.runner.catchUp();
    const first = await getDelta(fx.db.pool, bob, cursor0, 4);
    expect(first.items.map((i) => (i.type === 'item' ? i.seq : 0))).toEqual([1, 2, 3, 4]);
    expect(first.hasMore).toBe(true);
    const second = await getDelta(fx.db.pool, bob, first.nextCursor, 4);
    expect(second.items.map((i) => (i.type === 'item' ? i.seq : 0))).toEqual([5, 6, 7]);
    expect(second.hasMore).toBe(false);
    expect((await getDelta(fx.db.pool, bob, second.nextCursor, 4)).items).toEqual([]);
  });
});
