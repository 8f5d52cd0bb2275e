// Redis holds derived data only (DESIGN.md §10): when it dies and comes back empty, a gateway node
// notices on its next heartbeat that Redis forgot it, registers its open sockets again and hints them
// (hints routed meanwhile were lost), and its hint subscription comes back by itself. This test kills
// a redis-server of its own (on a free loopback port), never the shared one of REDIS_URL.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGatewayCluster, type GatewayCluster } from '../../src/server/gatewayCluster.js';
import { freePort } from '../support/freePort.js';
import { connect, eventually, sleep, startGateway, type RunningGateway, type TestClient } from './gatewayHarness.js';
import { createGatewayFixture, type GatewayFixture } from './gatewayFixture.js';

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;
const SKIP_REASON = 'SKIPPED: no redis-server binary on PATH (scripts/start-redis.sh installs it)';
if (!hasRedisServer) console.warn(SKIP_REASON);

/** A throw-away redis-server without persistence: a restart comes back empty, as after a crash. */
async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().trim() === 'PONG') return child;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer on ${port}`);
}

(hasRedisServer ? describe : describe.skip)(hasRedisServer ? 'a gateway node across a Redis restart' : SKIP_REASON, () => {
  let fixture: GatewayFixture;
  let redis: ChildProcess;
  let port: number;
  let dir: string;
  let gatewaySide: GatewayCluster;
  let projectorSide: GatewayCluster;
  let g: RunningGateway;
  let client: TestClient;

  beforeAll(async () => {
    fixture = await createGatewayFixture();
    port = await freePort();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'missive-redis-outage-'));
    redis = await startRedis(port, dir);
    const redisUrl = `redis://127.0.0.1:${port}`;
    const logger = pino({ level: 'silent' });
    gatewaySide = await openGatewayCluster({ redisUrl, nodeId: 'gateway-node', ttlMs: 900, logger });
    projectorSide = await openGatewayCluster({ redisUrl, nodeId: 'projector-node', ttlMs: 900, logger });
    g = await startGateway({ ...fixture.deps, allowedOrigins: '*', presence: gatewaySide.presence, presenceHeartbeatMs: gatewaySide.heartbeatMs });
    await gatewaySide.receiveHints(g.gateway);
  }, 60_000);

  afterAll(async () => {
    client?.ws.terminate();
    await g?.stop();
    await gatewaySide?.close();
    await projectorSide?.close();
    redis?.kill('SIGKILL');
    await fixture?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('re-registers its sockets, hints them, and receives routed hints again', async () => {
    client = await connect(g.url, { headers: { authorization: `Bearer ${await fixture.issue('rita')}` } });
    const routedHere = async () => (await projectorSide.presence.nodesOf(['rita'])).has(gatewaySide.presence.nodeId);
    await eventually(async () => expect(await routedHere()).toBe(true));
    await projectorSide.hintUsers(['rita']);
    await client.waitFor((f) => f.type === 'sync');

    const beforeRejoin = client.frames.length;
    redis.kill('SIGKILL');
    await new Promise((resolve) => redis.once('exit', resolve));
    await sleep(300);
    redis = await startRedis(port, dir); // empty: nothing persisted

    // Within a few heartbeats (300 ms apart) plus ioredis's reconnect back-off, the node is routed again.
    await eventually(async () => expect(await routedHere()).toBe(true), 10_000);
    // Nothing was published since the restart: this hint is the rejoin's own (hints routed meanwhile went nowhere).
    await client.waitFor((f) => f.type === 'sync', { from: beforeRejoin });
    expect((await projectorSide.presence.get(['rita']))[0]).toMatchObject({ online: true });

    // The subscription is back too: a routed hint arrives (retried while the subscriber reconnects).
    const beforeHint = client.frames.length;
    await eventually(async () => {
      await projectorSide.hintUsers(['rita']);
      await sleep(100);
      expect(client.frames.slice(beforeHint).some((f) => f.type === 'sync')).toBe(true);
    }, 10_000);
  });
});
