import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getMembers, isMember, listMemberConversationIds } from '../../../src/projections/index.js';
import { createProjectionFixture, newId, type ProjectionFixture } from '../support.js';

let fx: ProjectionFixture;
beforeAll(async () => {
  fx = await createProjectionFixture();
});
afterAll(async () => fx.close());

describe('membership projection', () => {
  it('tracks members, roles, removals, leaves and dissolution', async () => {
    const c = newId();
    const { log } = fx;
    await log.group(c, 'owner', ['ann', 'bob'], 'team');
    await log.add(c, 'owner', ['cid', 'ann']);
    await log.role(c, 'owner', 'ann', 'admin');
    await log.remove(c, 'ann', 'bob');
    await log.leave(c, 'cid');
    await fx.runner.catchUp();
    expect(await getMembers(fx.db.pool, c)).toEqual({
      kind: 'group',
      dissolved: false,
      members: [
        { userId: 'ann', role: 'admin' },
        { userId: 'owner', role: 'owner' },
      ],
    });
    expect(await isMember(fx.db.pool, c, 'ann')).toBe(true);
    expect(await isMember(fx.db.pool, c, 'bob')).toBe(false);

    await log.add(c, 'owner', ['bob']);
    await log.dissolve(c, 'owner');
    await fx.runner.catchUp();
    const view = await getMembers(fx.db.pool, c);
    expect(view?.dissolved).toBe(true);
    expect(view?.members).toContainEqual({ userId: 'bob', role: 'member' });
    expect(await listMemberConversationIds(fx.db.pool, 'bob')).toContain(c);
  });

  it('knows direct conversations and answers null for unknown ones', async () => {
    const c = newId();
    await fx.log.direct(c, 'x1', 'x2');
    await fx.runner.catchUp();
    expect(await getMembers(fx.db.pool, c)).toMatchObject({ kind: 'direct', members: [{ userId: 'x1' }, { userId: 'x2' }] });
    expect(await getMembers(fx.db.pool, newId())).toBeNull();
    await expect(isMember(fx.db.pool, '', 'x')).rejects.toMatchObject({ code: 'invalid_query' });
  });
});
