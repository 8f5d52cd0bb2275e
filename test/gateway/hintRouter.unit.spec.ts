// Who gets a hint: only the live nodes holding a socket of the user, each with only its own users; the
// local node without the bus; users with no socket anywhere cost no message. Memory adapters (the Redis
// ones pass the same presence contract; the two-node e2e test runs this over Redis).
import { describe, expect, it } from 'vitest';
import { createMemoryHintBus } from '../../src/gateway/hintBus.js';
import { createHintRouter } from '../../src/gateway/hintRouter.js';
import { createMemoryPresenceDirectory, createMemoryPresenceStore } from '../../src/gateway/presence.js';

describe('hint router', () => {
  it('publishes each user only to the nodes holding their sockets, and delivers the local node directly', async () => {
    const directory = createMemoryPresenceDirectory();
    const node = (nodeId: string) => createMemoryPresenceStore(Date.now, { directory, nodeId, ttlMs: 60_000 });
    const [a, b, c] = [node('a'), node('b'), node('c')];
    await a.deviceConnected('local-user', 's1', 1);
    await b.deviceConnected('both', 's2', 1);
    await a.deviceConnected('both', 's3', 1);
    await b.deviceConnected('remote-user', 's4', 1);
    await c.deviceConnected('gone', 's5', 1);
    await c.deviceDisconnected('gone', 's5', 2);

    const bus = createMemoryHintBus();
    const received: Record<string, string[][]> = { a: [], b: [], c: [] };
    for (const node of ['a', 'b', 'c']) await bus.subscribe(node, (users) => received[node]!.push(users.sort()));
    const local: string[][] = [];
    const router = createHintRouter({ presence: a, bus, local: { nodeId: 'a', deliver: (users) => local.push(users.sort()) } });

    await router.hintUsers(['local-user', 'both', 'remote-user', 'gone', 'never-connected', 'both']);
    // The local gateway hears every user once and keeps those it holds sockets for (gateway.notifyUsers).
    expect(local).toEqual([['both', 'gone', 'local-user', 'never-connected', 'remote-user']]);
    expect(received).toEqual({ a: [], b: [['both', 'remote-user']], c: [] });

    await router.hintUsers(['gone', 'never-connected']);
    await router.hintUsers([]);
    expect(received).toEqual({ a: [], b: [['both', 'remote-user']], c: [] });
    expect(local).toHaveLength(2);
  });

  it('still tells the local gateway when the directory has lost this node (late heartbeat, Redis restarted empty)', async () => {
    const directory = createMemoryPresenceDirectory();
    const a = createMemoryPresenceStore(Date.now, { directory, nodeId: 'a', ttlMs: 60_000 });
    const bus = createMemoryHintBus();
    const local: string[][] = [];
    const router = createHintRouter({ presence: a, bus, local: { nodeId: 'a', deliver: (users) => local.push(users) } });
    // Nothing registered: the directory knows no socket of this user anywhere.
    await router.hintUsers(['connected-here']);
    expect(local).toEqual([['connected-here']]);
  });
});
