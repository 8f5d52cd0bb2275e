// The contract every presence adapter passes (memory, Redis), together with its hint bus: one suite, run
// by each adapter's spec file. A subject is a "cluster": nodes that share one directory (a shared object in
// memory, one key prefix in Redis), isolated from every other test. Liveness runs on real time with a short
// ttl, since Redis judges it on its own clock.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HintBus } from '../../src/gateway/hintBus.js';
import type { PresenceStore } from '../../src/gateway/presence.js';

export interface PresenceCluster {
  /** A node of this cluster, already registered (its first heartbeat done). */
  node(name: string, ttlMs: number): Promise<PresenceStore>;
  bus: HintBus;
  dispose(): Promise<void>;
}

const TTL_MS = 1_500; // beats every 100 ms: a stall of 1.5 s on a loaded machine is needed to fake a death
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sorted = (byNode: Map<string, string[]>) => new Map([...byNode].map(([node, users]) => [node, [...users].sort()]));

/** Keeps a node beating every 100 ms (a live gateway) until stopped. */
function keepBeating(store: PresenceStore): { stop(): void } {
  const timer = setInterval(() => void store.heartbeat().catch(() => undefined), 100);
  return { stop: () => clearInterval(timer) };
}

export function describePresenceContract(name: string, makeCluster: () => Promise<PresenceCluster>): void {
  describe(`presence store contract: ${name}`, () => {
    let cluster: PresenceCluster;
    beforeEach(async () => {
      cluster = await makeCluster();
    });
    afterEach(async () => {
      await cluster.dispose();
    });

    it('keeps a user online while any device is connected, remembers the last disconnect, null for never seen', async () => {
      const a = await cluster.node('a', TTL_MS);
      const t0 = Date.now();
      await a.deviceConnected('u1', 'c1', t0);
      await a.deviceConnected('u1', 'c2', t0);
      await a.deviceDisconnected('u1', 'c1', t0 + 10);
      const [online] = await a.get(['u1']);
      expect(online).toMatchObject({ userId: 'u1', online: true });
      expect(Date.parse(online!.lastSeen!)).toBeGreaterThanOrEqual(t0);
      await a.deviceDisconnected('u1', 'c2', t0 + 20);
      expect(await a.get(['u1', 'never'])).toEqual([
        { userId: 'u1', online: false, lastSeen: new Date(t0 + 20).toISOString() },
        { userId: 'never', online: false, lastSeen: null },
      ]);
    });

    it('ignores the disconnect of a socket it never registered', async () => {
      const a = await cluster.node('a', TTL_MS);
      await a.deviceConnected('u1', 'c1', 1_000);
      await a.deviceDisconnected('u1', 'c1', 2_000);
      await a.deviceDisconnected('u1', 'unknown', 9_000);
      expect(await a.get(['u1'])).toEqual([{ userId: 'u1', online: false, lastSeen: new Date(2_000).toISOString() }]);
    });

    it('answers the same presence on every node', async () => {
      const a = await cluster.node('a', TTL_MS);
      const b = await cluster.node('b', TTL_MS);
      const at = Date.now();
      await a.deviceConnected('u1', 'c1', at);
      expect((await b.get(['u1']))[0]).toMatchObject({ online: true });
      await b.deviceConnected('u1', 'c2', at);
      await a.deviceDisconnected('u1', 'c1', at + 5);
      expect((await a.get(['u1']))[0]).toMatchObject({ online: true });
      await b.deviceDisconnected('u1', 'c2', at + 7);
      expect(await a.get(['u1'])).toEqual([{ userId: 'u1', online: false, lastSeen: new Date(at + 7).toISOString() }]);
    });

    it('routes each user to exactly the live nodes holding their sockets', async () => {
      const a = await cluster.node('a', TTL_MS);
      const b = await cluster.node('b', TTL_MS);
      const at = Date.now();
      await a.deviceConnected('u1', 'c1', at);
      await a.deviceConnected('u1', 'c2', at);
      await a.deviceConnected('u2', 'c3', at);
      await b.deviceConnected('u2', 'c4', at);
      await b.deviceConnected('u3', 'c5', at);
      await b.deviceDisconnected('u3', 'c5', at);
      const routes = sorted(await b.nodesOf(['u1', 'u2', 'u3', 'nobody', 'u1']));
      expect(routes).toEqual(new Map([[a.nodeId, ['u1', 'u2']], [b.nodeId, ['u2']]]));
      expect(a.nodeId).not.toBe(b.nodeId);
      expect(await a.nodesOf([])).toEqual(new Map());
    });

    it('expires the routes and presence of a node that stops heartbeating, within the ttl', async () => {
      const a = await cluster.node('a', TTL_MS);
      const b = await cluster.node('b', TTL_MS);
      const beating = keepBeating(a);
      try {
        const at = Date.now();
        await a.deviceConnected('shared', 'c1', at);
        await b.deviceConnected('shared', 'c2', at);
        await b.deviceConnected('onlyB', 'c3', at);
        await sleep(300); // so that b's last heartbeat and the connect time differ
        const beatStart = Date.now();
        await b.heartbeat();
        const beatEnd = Date.now();
        expect(sorted(await a.nodesOf(['shared', 'onlyB']))).toEqual(new Map([[a.nodeId, ['shared']], [b.nodeId, ['onlyB', 'shared']]]));
        await sleep(TTL_MS + 400); // b is silent now: it "died"
        expect(sorted(await a.nodesOf(['shared', 'onlyB']))).toEqual(new Map([[a.nodeId, ['shared']]]));
        const [shared, onlyB] = await a.get(['shared', 'onlyB']);
        expect(shared).toMatchObject({ online: true });
        expect(onlyB).toMatchObject({ online: false });
        // Last seen when b last proved alive, not when the socket connected (Redis and the test share a clock).
        expect(Date.parse(onlyB!.lastSeen!)).toBeGreaterThanOrEqual(beatStart - 20);
        expect(Date.parse(onlyB!.lastSeen!)).toBeLessThanOrEqual(beatEnd + 20);
        // After a's heartbeats swept b's records, the answers stay the same.
        await a.heartbeat();
        expect(sorted(await a.nodesOf(['shared', 'onlyB']))).toEqual(new Map([[a.nodeId, ['shared']]]));
        expect((await a.get(['onlyB']))[0]).toEqual(onlyB);
      } finally {
        beating.stop();
      }
    });

    it('tells a forgotten node on its next heartbeat, and routes to it again once it re-registers', async () => {
      const a = await cluster.node('a', TTL_MS);
      const b = await cluster.node('b', TTL_MS);
      expect(await b.heartbeat()).toEqual({ rejoined: false });
      await b.deviceConnected('u1', 'c1', Date.now());
      await sleep(TTL_MS + 300);
      // Dead for readers before anyone swept it.
      expect(await a.nodesOf(['u1'])).toEqual(new Map());
      expect((await a.get(['u1']))[0]).toMatchObject({ online: false });
      await a.heartbeat(); // sweeps b
      expect(await a.nodesOf(['u1'])).toEqual(new Map());
      expect(await b.heartbeat()).toEqual({ rejoined: true });
      expect(await b.heartbeat()).toEqual({ rejoined: false });
      await b.deviceConnected('u1', 'c1', Date.now());
      expect(await a.nodesOf(['u1'])).toEqual(new Map([[b.nodeId, ['u1']]]));
    });

    it('removes the routes of a node that leaves at once, with last seen at its leaving', async () => {
      const a = await cluster.node('a', TTL_MS);
      const b = await cluster.node('b', TTL_MS);
      await a.deviceConnected('u1', 'c1', Date.now() - 60_000);
      const before = Date.now();
      await a.leave();
      expect(await b.nodesOf(['u1'])).toEqual(new Map());
      const [entry] = await b.get(['u1']);
      expect(entry).toMatchObject({ online: false });
      expect(Date.parse(entry!.lastSeen!)).toBeGreaterThanOrEqual(before - 20);
      expect(Date.parse(entry!.lastSeen!)).toBeLessThanOrEqual(Date.now() + 20);
    });

    it('delivers a hint to the addressed node only, until it unsubscribes', async () => {
      const a = await cluster.node('a', TTL_MS);
      const b = await cluster.node('b', TTL_MS);
      const got: Record<string, string[][]> = { a: [], b: [] };
      const subA = await cluster.bus.subscribe(a.nodeId, (users) => got.a!.push(users));
      const subB = await cluster.bus.subscribe(b.nodeId, (users) => got.b!.push(users));
      await cluster.bus.publish(b.nodeId, ['u1', 'u2']);
      for (let i = 0; i < 100 && got.b!.length === 0; i++) await sleep(10);
      expect(got.b).toEqual([['u1', 'u2']]);
      await subB.unsubscribe();
      await cluster.bus.publish(b.nodeId, ['u3']);
      await cluster.bus.publish(a.nodeId, ['u4']);
      for (let i = 0; i < 100 && got.a!.length === 0; i++) await sleep(10);
      expect(got).toEqual({ a: [['u4']], b: [['u1', 'u2']] });
      await subA.unsubscribe();
    });
  });
}
