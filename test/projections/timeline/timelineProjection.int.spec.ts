import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getHistory, InvalidQueryError, isMessageItem } from '../../../src/projections/index.js';
import { createProjectionFixture, newId, type ProjectionFixture } from '../support.js';

let fx: ProjectionFixture;
beforeAll(async () => {
  fx = await createProjectionFixture();
});
afterAll(async () => fx.close());

describe('timeline projection', () => {
  it('holds one item per seq: messages with edits and recalls applied, system items for the rest', async () => {
    const c = newId();
    const { log } = fx;
    await log.group(c, 'owner', ['ann', 'bob'], 'team');
    const first = await log.send(c, 'ann', 'first');
    const second = await log.send(c, 'bob', 'second');
    await log.edit(c, 'ann', first, 'first, edited');
    await log.recall(c, 'bob', second);
    await log.rename(c, 'owner', 'renamed');
    await fx.runner.catchUp();

    const { items } = await getHistory(fx.db.pool, c, { limit: 50 });
    expect(items.map((i) => i.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(items[0]).toMatchObject({ kind: 'system', event: 'GroupCreated', actorId: 'owner', data: { name: 'team' } });
    expect(items[1]).toMatchObject({ messageId: first.messageId, senderId: 'ann', kind: 'text', body: { text: 'first, edited' } });
    expect(items[1]).toHaveProperty('editedAt');
    expect(items[2]).toMatchObject({ messageId: second.messageId, body: {}, recalled: true });
    expect(items[3]).toMatchObject({ kind: 'system', event: 'MessageEdited', data: { seq: 2 } });
    expect(items[4]).toMatchObject({ kind: 'system', event: 'MessageRecalled', data: { seq: 3 } });
  });

  it('applies an edit and a recall arriving in a later batch than their message', async () => {
    const c = newId();
    const { log } = fx;
    await log.direct(c, 'ann', 'bob');
    const m = await log.send(c, 'ann', 'one');
    await fx.runner.catchUp();
    await log.edit(c, 'ann', m, 'two');
    await fx.runner.catchUp();
    expect((await getHistory(fx.db.pool, c, { after: 1, limit: 1 })).items[0]).toMatchObject({ body: { text: 'two' } });
    await log.recall(c, 'ann', m);
    await log.edit(c, 'ann', m, 'three'); // the domain forbids it; the projection keeps the recall anyway
    await fx.runner.catchUp();
    expect((await getHistory(fx.db.pool, c, { after: 1, limit: 1 })).items[0]).toMatchObject({ body: {}, recalled: true });
  });

  it('pages by seq before and after, ascending', async () => {
    const c = newId();
    await fx.log.direct(c, 'ann', 'bob');
    for (let i = 0; i < 9; i++) await fx.log.send(c, i % 2 ? 'ann' : 'bob', `m${i}`);
    await fx.runner.catchUp();
    const seqs = async (q: { before?: number; after?: number; limit: number }) => (await getHistory(fx.db.pool, c, q)).items.map((i) => i.seq);
    expect(await seqs({ limit: 3 })).toEqual([8, 9, 10]);
    expect(await seqs({ before: 8, limit: 3 })).toEqual([5, 6, 7]);
    expect(await seqs({ after: 2, limit: 3 })).toEqual([3, 4, 5]);
    expect(await seqs({ after: 2, before: 5, limit: 10 })).toEqual([3, 4]);
    expect(await seqs({ before: 1, limit: 3 })).toEqual([]);
    await expect(getHistory(fx.db.pool, c, { limit: 0 })).rejects.toBeInstanceOf(InvalidQueryError);
    await expect(getHistory(fx.db.pool, c, { before: -1, limit: 2 })).rejects.toMatchObject({ code: 'invalid_query' });
    await expect(getHistory(fx.db.pool, c, { before: 3, after: 3, limit: 2 })).rejects.toMatchObject({ code: 'invalid_query' });
  });

  it('stores items in month partitions created on demand, and history spans them by index', async () => {
    const c = newId();
    fx.log.setTime('2024-11-30T23:59:59.000Z');
    await fx.log.direct(c, 'ann', 'bob'); // November
    const m = await fx.log.send(c, 'ann', 'december'); // 2024-12-01T00:00:00Z
    fx.log.setTime('2025-02-10T00:00:00.000Z');
    await fx.log.edit(c, 'ann', m, 'edited in february');
    await fx.runner.catchUp();
    const partitions = await fx.db.pool.query<{ relname: string }>(
      `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
        JOIN pg_namespace n ON n.oid = p.relnamespace WHERE n.nspname = 'proj_timeline' AND p.relname = 'items' ORDER BY 1`,
    );
    expect(partitions.rows.map((r) => r.relname)).toEqual(expect.arrayContaining(['items_p202411', 'items_p202412', 'items_p202502']));
    const { items } = await getHistory(fx.db.pool, c, { limit: 10 });
    expect(items.map((i) => i.seq)).toEqual([1, 2, 3]);
    const message = items[1]!;
    expect(isMessageItem(message) && message.body).toEqual({ text: 'edited in february' });
    const plan = await fx.db.pool.query(`EXPLAIN SELECT item FROM proj_timeline.items WHERE conversation_id = $1 AND seq < 10 ORDER BY seq DESC LIMIT 5`, [c]);
    const text = plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
    expect(text).toMatch(/Index (Only )?Scan/);
  });
});
