import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDelta, getUnread, listConversations, type DeltaItem, type SyncCursor } from '../../../src/projections/index.js';
import { createProjectionFixture, newId, type ProjectionFixture } from '../support.js';
import { referenceViews, viewKey } from '../reference.js';

// A fan-out limit of 3: a group with 4 members is read fan-out.
let fx: ProjectionFixture;
beforeAll(async () => {
  fx = await createProjectionFixture({ fanoutLimit: 3 });
});
afterAll(async () => fx.close());

/** Pulls every page after `cursor` with a small page size; returns the items and the last cursor. */
async function pullAll(userId: string, cursor: SyncCursor, pageSize = 2): Promise<{ items: DeltaItem[]; cursor: SyncCursor }> {
  const items: DeltaItem[] = [];
  for (let page = 0; page < 500; page++) {
    const delta = await getDelta(fx.db.pool, userId, cursor, pageSize);
    expect(delta.items.length).toBeLessThanOrEqual(pageSize);
    items.push(...delta.items);
    cursor = delta.nextCursor;
    if (!delta.hasMore) return { items, cursor };
  }
  throw new Error('sync did not finish');
}

const seqsOf = (items: DeltaItem[], c: string) => items.filter((i) => i.type === 'item' && i.conversationId === c).map((i) => (i.type === 'item' ? i.seq : 0));

describe('write and read fan-out', () => {
  it('delivers every item exactly once to each member while a group crosses the limit up and down', async () => {
    const c = newId();
    const [owner, ann, bob, cid, dan] = [newId(), newId(), newId(), newId(), newId()];
    const { log } = fx;
    const cursors = new Map<string, SyncCursor>();
    for (const u of [owner, ann, bob, cid, dan]) cursors.set(u, (await getDelta(fx.db.pool, u, null, 10)).nextCursor);
    const collected = new Map<string, DeltaItem[]>();
    const syncEveryone = async () => {
      await fx.runner.catchUp();
      for (const u of [owner, ann, bob, cid, dan]) {
        const { items, cursor } = await pullAll(u, cursors.get(u)!);
        collected.set(u, [...(collected.get(u) ?? []), ...items]);
        cursors.set(u, cursor);
      }
    };

    await log.group(c, owner, [ann, bob], 'g'); // 1: 3 members, write
    await log.send(c, owner, 'w1'); // 2
    await syncEveryone();
    await log.add(c, owner, [cid]); // 3: 4 members → read from here
    await log.send(c, ann, 'r1'); // 4
    await syncEveryone();
    await log.send(c, bob, 'r2'); // 5
    await log.leave(c, bob); // 6: 3 members → write again
    await log.send(c, owner, 'w2'); // 7
    await log.add(c, owner, [dan, bob]); // 8: 5 → read
    await log.send(c, cid, 'r3'); // 9
    await syncEveryone();
    await log.remove(c, owner, dan); // 10: 4 → still read
    await log.remove(c, owner, cid); // 11: 3 → write
    await log.send(c, owner, 'w3'); // 12
    await syncEveryone();

    const log_ = await readLog();
    const reference = referenceViews(log_);
    for (const u of [owner, ann, bob, cid, dan]) {
      // In seq order, each once: inbox and timeline items are merged in global order.
      expect(seqsOf(collected.get(u)!, c), `items of ${u}`).toEqual(reference.get(viewKey(u, c))!.delivered);
    }
    expect(reference.get(viewKey(dan, c))!.delivered).toEqual([8, 9, 10]);
    expect(reference.get(viewKey(bob, c))!.delivered).toEqual([1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12]);

    const modes = await fx.db.pool.query(`SELECT from_seq, mode FROM proj_inbox.fanout_modes WHERE conversation_id = $1 ORDER BY from_seq`, [c]);
    expect(modes.rows).toEqual([
      { from_seq: 1, mode: 'write' },
      { from_seq: 3, mode: 'read' },
      { from_seq: 6, mode: 'write' },
      { from_seq: 8, mode: 'read' },
      { from_seq: 11, mode: 'write' },
    ]);
    // Read-mode seqs wrote no inbox rows.
    const inboxSeqs = await fx.db.pool.query(`SELECT DISTINCT seq FROM proj_inbox.entries WHERE conversation_id = $1 ORDER BY seq`, [c]);
    expect(inboxSeqs.rows.map((r) => r.seq)).toEqual([1, 2, 6, 7, 11, 12]);

    // Unread stays exact through the switches (counted at read time while in read mode).
    for (const u of [owner, ann, bob, cid, dan]) {
      const row = (await listConversations(fx.db.pool, u, { limit: 100 })).items.find((r) => r.conversationId === c)!;
      expect(row.unread, `unread of ${u}`).toBe(reference.get(viewKey(u, c))!.unread);
    }
  });

  it('numbers each user\'s inbox consecutively, and sends the user\'s own reads and settings to their inbox', async () => {
    const [ann, bob] = [newId(), newId()];
    const c1 = newId();
    const c2 = newId();
    const { log } = fx;
    await log.direct(c1, ann, bob);
    await log.send(c1, bob, 'hi');
    await log.direct(c2, ann, newId());
    await log.read(ann, c1, 2, 'phone');
    await log.settings(ann, c2, { muted: true });
    await fx.runner.catchUp();
    const rows = await fx.db.pool.query(`SELECT inbox_seq::int AS n, kind FROM proj_inbox.entries WHERE user_id = $1 ORDER BY inbox_seq`, [ann]);
    expect(rows.rows).toEqual([
      { n: 1, kind: 'item' },
      { n: 2, kind: 'item' },
      { n: 3, kind: 'item' },
      { n: 4, kind: 'read' },
      { n: 5, kind: 'settings' },
    ]);
    const delta = await getDelta(fx.db.pool, ann, { inboxSeq: 3, groups: {}, epoch: (await getDelta(fx.db.pool, ann, null, 1)).nextCursor.epoch }, 10);
    expect(delta.items).toEqual([
      { type: 'read', conversationId: c1, seq: 2, deviceId: 'phone', at: expect.any(String) },
      { type: 'settings', conversationId: c2, muted: true, at: expect.any(String) },
    ]);
    expect(delta.conversations.map((r) => r.conversationId).sort()).toEqual([c1, c2].sort());
    expect(delta.conversations.find((r) => r.conversationId === c1)).toMatchObject({ unread: 0, lastReadSeq: 2 });
    expect(delta.unreadTotal).toBe((await getUnread(fx.db.pool, ann)).total);
  });

  it('answers a fresh device with every session row and a cursor at the heads', async () => {
    const [ann, bob] = [newId(), newId()];
    const big = newId();
    await fx.log.group(big, ann, [bob, newId(), newId()], 'big'); // 4 members: read fan-out
    await fx.log.send(big, bob, 'hello');
    const direct = newId();
    await fx.log.direct(direct, ann, bob);
    await fx.runner.catchUp();
    const fresh = await getDelta(fx.db.pool, ann, null, 10);
    expect(fresh.items).toEqual([]);
    expect(fresh.hasMore).toBe(false);
    expect(fresh.conversations.map((r) => r.conversationId)).toEqual([direct, big]);
    expect(fresh.unreadTotal).toBe(1);
    expect(fresh.nextCursor.inboxSeq).toBe(1);
    expect(fresh.nextCursor.groups).toEqual({ [big]: 2 });
    const next = await getDelta(fx.db.pool, ann, fresh.nextCursor, 10);
    expect(next.items).toEqual([]);
  });

  it('refuses a cursor from another epoch and a malformed one', async () => {
    const user = newId();
    const { nextCursor } = await getDelta(fx.db.pool, user, null, 5);
    await expect(getDelta(fx.db.pool, user, { ...nextCursor, epoch: nextCursor.epoch + 7 }, 5)).rejects.toMatchObject({ code: 'resync_required' });
    await expect(getDelta(fx.db.pool, user, { ...nextCursor, inboxSeq: -1 }, 5)).rejects.toMatchObject({ code: 'invalid_query' });
    await expect(getDelta(fx.db.pool, user, nextCursor, 0)).rejects.toMatchObject({ code: 'invalid_query' });
  });
});

async function readLog() {
  const { readWholeLog } = await import('../../support/history.js');
  return readWholeLog(fx.store);
}
