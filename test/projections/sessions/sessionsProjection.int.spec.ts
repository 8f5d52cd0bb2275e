import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getUnread, InvalidCursorError, listConversations, type SessionRow } from '../../../src/projections/index.js';
import { createProjectionFixture, newId, type ProjectionFixture } from '../support.js';

let fx: ProjectionFixture;
beforeAll(async () => {
  fx = await createProjectionFixture();
});
afterAll(async () => fx.close());

const unreadOf = async (userId: string, c: string) => (await getUnread(fx.db.pool, userId)).conversations.find((x) => x.conversationId === c)?.unread;
const rowOf = async (userId: string, c: string): Promise<SessionRow | undefined> =>
  (await listConversations(fx.db.pool, userId, { limit: 1000 })).items.find((r) => r.conversationId === c);

describe('sessions projection: unread', () => {
  it('counts the peer messages above the read mark; a mark from any device never goes down and is clamped', async () => {
    const c = newId();
    const [ann, bob] = [newId(), newId()];
    const { log } = fx;
    await log.direct(c, ann, bob); // seq 1
    await log.send(c, ann, 'a'); // 2
    await log.send(c, bob, 'b'); // 3
    await log.send(c, ann, 'c'); // 4
    await log.send(c, ann, 'd'); // 5
    await fx.runner.catchUp();
    expect(await unreadOf(bob, c)).toBe(3);
    expect(await unreadOf(ann, c)).toBe(1);

    await log.read(bob, c, 4, 'phone');
    await fx.runner.catchUp();
    expect(await unreadOf(bob, c)).toBe(1);
    await log.read(bob, c, 2, 'laptop'); // a stale device: changes nothing
    await log.read(bob, c, 99, 'tablet'); // above the last seq: clamped to 5
    await fx.runner.catchUp();
    expect(await unreadOf(bob, c)).toBe(0);
    expect((await rowOf(bob, c))?.lastReadSeq).toBe(5);
    await log.read(bob, c, 3, 'laptop');
    await fx.runner.catchUp();
    expect((await rowOf(bob, c))?.lastReadSeq).toBe(5);
  });

  it('lowers unread when an unread message is recalled, in the same batch or a later one, but not a read one', async () => {
    const c = newId();
    const [ann, bob] = [newId(), newId()];
    const { log } = fx;
    await log.direct(c, ann, bob);
    const m1 = await log.send(c, ann, '1');
    const m2 = await log.send(c, ann, '2');
    const m3 = await log.send(c, ann, '3');
    await log.recall(c, ann, m3); // same batch as its send
    await fx.runner.catchUp();
    expect(await unreadOf(bob, c)).toBe(2);
    await log.read(bob, c, m1.seq);
    await fx.runner.catchUp();
    expect(await unreadOf(bob, c)).toBe(1);
    await log.recall(c, ann, m1); // already read: nothing changes
    await log.recall(c, ann, m2); // unread: one less
    await fx.runner.catchUp();
    expect(await unreadOf(bob, c)).toBe(0);
    expect(await unreadOf(ann, c)).toBe(0);
  });

  it('stops counting for a departed member, keeps their frozen row out of the total, and counts again after a rejoin', async () => {
    const c = newId();
    const [owner, ann, bob] = [newId(), newId(), newId()];
    const { log } = fx;
    await log.group(c, owner, [ann, bob], 'before'); // 1
    await log.send(c, owner, 'x'); // 2
    await log.send(c, owner, 'y'); // 3
    await fx.runner.catchUp();
    await log.remove(c, owner, ann); // 4
    await log.send(c, owner, 'after removal'); // 5
    await log.rename(c, owner, 'after'); // 6
    await fx.runner.catchUp();

    const annUnread = await getUnread(fx.db.pool, ann);
    expect(annUnread.conversations.find((x) => x.conversationId === c)).toBeUndefined();
    expect(annUnread.total).toBe(0);
    const frozen = await rowOf(ann, c);
    expect(frozen).toMatchObject({ active: false, unread: 2, lastSeq: 4, title: 'before', lastMessage: { seq: 3, text: 'y' } });
    expect(await rowOf(bob, c)).toMatchObject({ active: true, unread: 3, lastSeq: 6, title: 'after', lastMessage: { seq: 5 } });

    await log.add(c, owner, [ann]); // 7
    await log.send(c, owner, 'welcome back'); // 8
    await fx.runner.catchUp();
    expect(await rowOf(ann, c)).toMatchObject({ active: true, unread: 3, lastSeq: 8, title: 'after' });
    expect((await getUnread(fx.db.pool, ann)).total).toBe(3);
    await log.recall(c, owner, { seq: 2, messageId: 'ignored' }); // counted in ann's first period
    await fx.runner.catchUp();
    expect(await unreadOf(ann, c)).toBe(2);
    expect(await unreadOf(bob, c)).toBe(3);
  });

  it('keeps the total equal to the sum over the user\'s conversations', async () => {
    const user = newId();
    const { log } = fx;
    for (let i = 0; i < 3; i++) {
      const c = newId();
      const peer = newId();
      await log.direct(c, user, peer);
      for (let j = 0; j <= i; j++) await log.send(c, peer, `m${j}`);
    }
    await fx.runner.catchUp();
    const unread = await getUnread(fx.db.pool, user);
    expect(unread.conversations.map((x) => x.unread).sort()).toEqual([1, 2, 3]);
    expect(unread.total).toBe(6);
  });
});

describe('sessions projection: the conversation list', () => {
  it('shows title, kind, preview (edits and recalls applied), read mark and settings', async () => {
    const [ann, bob] = [newId(), newId()];
    const direct = newId();
    const group = newId();
    const { log } = fx;
    await log.direct(direct, ann, bob);
    const m = await log.send(direct, bob, 'hello ann');
    await log.edit(direct, bob, m, 'hello again');
    await log.group(group, ann, [bob], 'Project');
    const g = await log.send(group, ann, 'status?');
    await log.recall(group, ann, g);
    await log.settings(ann, direct, { muted: true, pinned: true });
    await log.settings(ann, direct, { pinned: false });
    await fx.runner.catchUp();

    const { items } = await listConversations(fx.db.pool, ann, { limit: 10 });
    expect(items.map((r) => r.conversationId)).toEqual([group, direct]);
    expect(items[0]).toMatchObject({ kind: 'group', title: 'Project', lastSeq: 3, unread: 0, lastMessage: { seq: 2, recalled: true }, muted: false });
    expect(items[0]!.lastMessage).not.toHaveProperty('text');
    expect(items[1]).toMatchObject({
      kind: 'direct',
      title: bob,
      lastSeq: 3,
      unread: 1,
      lastReadSeq: 0,
      lastMessage: { messageId: m.messageId, seq: 2, senderId: bob, kind: 'text', text: 'hello again' },
      muted: true,
      pinned: false,
      hidden: false,
      active: true,
    });
    expect((await listConversations(fx.db.pool, bob, { limit: 10 })).items.find((r) => r.conversationId === direct)?.title).toBe(ann);
  });

  it('pages by activity with an opaque cursor, newest first, every row once', async () => {
    const user = newId();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const c = newId();
      ids.push(c);
      await fx.log.direct(c, user, newId());
    }
    await fx.log.send(ids[2]!, user, 'bump'); // most recent activity
    await fx.runner.catchUp();
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 10; page++) {
      const result: Awaited<ReturnType<typeof listConversations>> = await listConversations(fx.db.pool, user, { limit: 3, cursor });
      seen.push(...result.items.map((r) => r.conversationId));
      cursor = result.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual([ids[2], ...ids.filter((_, i) => i !== 2).reverse()]);
    await expect(listConversations(fx.db.pool, user, { limit: 3, cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(InvalidCursorError);
    await expect(listConversations(fx.db.pool, user, { limit: 5000 })).rejects.toMatchObject({ code: 'invalid_query' });
  });
});
