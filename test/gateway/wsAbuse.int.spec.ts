// WebSocket abuse against a real `missive serve` child process (its memory is measured apart from the
// clients'): frame floods, oversized frames, a reader that never drains, 2,000 half-open connections
// (upgrade requests that never finish, and upgraded sockets whose peer went silent). The server's RSS
// must stay bounded, the documented close codes must arrive (1009, 4008), the server must keep serving
// everyone else meanwhile, and a client thrown off must get every message it missed, in order, by
// pulling with its sync token after reconnecting. The heartbeat's reaping of silent sockets is shown
// in-process with a short heartbeat (the served default is 25 s).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenService } from '../../src/auth/tokens.js';
import { freePort } from '../support/freePort.js';
import { countEvents } from '../support/liveServer.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { connect, eventually, metricValue, sleep, startGateway, type TestClient } from './gatewayHarness.js';
import { createGatewayFixture } from './gatewayFixture.js';
import { sharedServiceNamesOf } from '../support/sharedServices.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const JWT = { secret: 'ws-abuse-secret-0123456789abcdef', issuer: 'missive', audience: 'missive' };
const HALF_OPEN = 2_000;
/** Bounds on the server's RSS growth (MiB), several times what was measured (see the issue note). */
const MAX_GROWTH_MIB = { flood: 64, oversized: 64, slowReader: 96, halfOpen: 160 };

let db: TestDatabase;
let child: ChildProcess;
let base: string;
let wsUrl: string;
const tokens = createTokenService(JWT);
const measured: Record<string, string> = {};

/** The child's resident set size, MiB (from /proc: the server's own memory, not the test's). */
function serverRssMiB(): number {
  const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function api(token: string, method: string, url: string, body?: unknown) {
  const response = await fetch(base + url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: response.status, json: (await response.json()) as any };
}

async function gatewayMetric(name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
}

const socketFor = async (userId: string) => connect(wsUrl, { headers: { authorization: `Bearer ${await tokens.issue(userId)}` } });

beforeAll(async () => {
  db = await createTestDatabase({ migrate: false });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  wsUrl = `ws://127.0.0.1:${port}/v1/ws`;
  child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      ...sharedServiceNamesOf(db.url),
      PORT: String(port),
      HOST: '127.0.0.1',
      MISSIVE_DEV_AUTH: 'false',
      MISSIVE_JWT_SECRET: JWT.secret,
      MISSIVE_LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  for (const deadline = Date.now() + 45_000; ; await sleep(200)) {
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}: ${stderr}`);
    if (await fetch(`${base}/readyz`).then((r) => r.ok, () => false)) break;
    if (Date.now() > deadline) throw new Error(`serve did not become ready: ${stderr}`);
  }
  measured.baseline = `${serverRssMiB().toFixed(1)} MiB`;
}, 60_000);

afterAll(async () => {
  console.info(`ws abuse, server RSS: ${JSON.stringify(measured)}`);
  child?.kill('SIGKILL');
  await db?.drop();
});

describe('abuse of a served gateway', () => {
  it('answers a flood of 20,000 frames in order (valid and invalid mixed) without growing', async () => {
    const client = await socketFor('flooder');
    const before = serverRssMiB();
    const frames = 20_000;
    for (let i = 0; i < frames; i++) {
      if (i % 4 === 3) client.ws.send('{not json');
      else client.send({ op: 'ping', id: i });
    }
    await client.waitFor(() => client.frames.length >= frames, { timeoutMs: 60_000 });
    const after = serverRssMiB();
    measured.flood = `${before.toFixed(1)} -> ${after.toFixed(1)} MiB for ${frames} frames`;
    // One reply per frame, in request order; the bad ones answered with bad_frame, the socket still open.
    client.frames.forEach((f, i) => (i % 4 === 3 ? expect(f).toMatchObject({ type: 'error', code: 'bad_frame' }) : expect(f).toEqual({ type: 'pong', id: i })));
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
    expect(after - before).toBeLessThan(MAX_GROWTH_MIB.flood);
    client.ws.close();
  }, 90_000);

  it('closes oversized frames with 1009, in bounded memory, and keeps serving others', async () => {
    const before = serverRssMiB();
    const closes = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const client = await socketFor(`big-${i}`);
        // 8 MiB claimed and sent; the server sees from the frame header that it is over 64 KiB and closes
        // (what the client pushed meanwhile is read and dropped, not kept).
        client.ws.send(Buffer.alloc(8 * 1024 * 1024, 0x61).toString());
        return (await client.closed).code;
      }),
    );
    const after = serverRssMiB();
    measured.oversized = `${before.toFixed(1)} -> ${after.toFixed(1)} MiB for 10 frames of 8 MiB`;
    expect(closes).toEqual(Array(10).fill(1009));
    // Just over the limit closes too; just under is answered.
    const edge = await socketFor('edge');
    expect(await edge.request({ op: 'ping', id: 'p'.repeat(100) })).toMatchObject({ type: 'pong' });
    edge.ws.send(JSON.stringify({ op: 'ping', id: 1, pad: 'x'.repeat(64 * 1024) }));
    expect((await edge.closed).code).toBe(1009);
    expect(after - before).toBeLessThan(MAX_GROWTH_MIB.oversized);
    const other = await socketFor('bystander');
    expect(await other.request({ op: 'ping', id: 'ok' })).toEqual({ type: 'pong', id: 'ok' });
    other.ws.close();
  }, 60_000);

  it('closes a reader that never drains with 4008, bounded, and after reconnecting it pulls every missed message in order', async () => {
    const sender = await tokens.issue('chatty');
    const group = await api(sender, 'POST', '/v1/groups', { name: 'slow room', memberIds: ['sloth'] });
    expect(group.status).toBe(201);
    const conversationId = group.json.conversationId as string;
    // The slow device syncs once and keeps its token, as a client does.
    const slowToken = await tokens.issue('sloth');
    let syncToken = (await api(slowToken, 'GET', '/v1/sync')).json.nextToken as string;
    const slow = await connect(wsUrl, { headers: { authorization: `Bearer ${slowToken}` } });

    const before = serverRssMiB();
    // Never read again, and ask for more replies than the kernel's socket buffers hold, in batches
    // until the server reports the socket congested (a hint to it dropped), so that this does not
    // depend on how large the loopback buffers are.
    slow.ws.pause();
    const id = 'p'.repeat(110);
    let pings = 0;
    const askForReplies = (count: number) => {
      for (let i = 0; i < count; i++) slow.send({ op: 'ping', id: `${id}${pings++}` });
    };
    // Meanwhile messages keep coming: the server keeps serving; hints to the stuck socket are dropped.
    const sent: Array<{ seq: number; text: string }> = [];
    let peak = before;
    let congestedAt: number | null = null;
    for (let i = 0, deadline = Date.now() + 60_000; Date.now() < deadline; i++) {
      if (congestedAt === null && pings < 400_000) askForReplies(20_000);
      const text = `while you were stuck ${i}`;
      const ack = await api(sender, 'POST', `/v1/conversations/${conversationId}/messages`, { clientMsgId: `stuck-${i}`, kind: 'text', body: { text } });
      expect(ack.status).toBe(201);
      sent.push({ seq: ack.json.seq, text });
      peak = Math.max(peak, serverRssMiB());
      if (congestedAt === null && (await gatewayMetric('missive_gateway_hints_dropped_total')) > 0) congestedAt = Date.now();
      // Read again once the 4008 close is due (stuckMs, 10 s, after congestion) and before the server
      // gives up on the closing handshake (closeTimeoutMs, 5 s later): the close frame is behind the backlog.
      if (congestedAt !== null && Date.now() - congestedAt > 11_500) break;
      await sleep(100);
    }
    expect(congestedAt, 'the server never saw the socket congested').not.toBeNull();
    slow.ws.resume();
    const closed = await slow.closed;
    measured.slowReader = `${before.toFixed(1)} -> peak ${peak.toFixed(1)} MiB (${pings} unread replies requested)`;
    expect(closed).toEqual({ code: 4008, reason: 'slow_consumer' });
    expect(peak - before).toBeLessThan(MAX_GROWTH_MIB.slowReader);

    // Reconnect, then pull from the stored token until caught up: every missed message, in order.
    const again = await connect(wsUrl, { headers: { authorization: `Bearer ${slowToken}` } });
    const received: Array<{ seq: number; text: string }> = [];
    for (let deadline = Date.now() + 20_000; received.length < sent.length && Date.now() < deadline; ) {
      const page = await again.request({ op: 'sync', id: `s${received.length}-${Date.now()}`, since: syncToken, limit: 50 });
      expect(page.type).toBe('sync.result');
      syncToken = page.nextToken as string;
      for (const item of page.items as Array<{ conversationId: string; item: { kind: string; seq: number; body?: { text?: string } } }>) {
        if (item.conversationId === conversationId && item.item.kind === 'text') received.push({ seq: item.item.seq, text: item.item.body!.text! });
      }
      if (!page.hasMore) await sleep(100);
    }
    expect(received).toEqual(sent);
    again.ws.close();
  }, 90_000);

  it(`holds ${HALF_OPEN.toLocaleString('en')} half-open connections in bounded memory and keeps serving`, async () => {
    const before = serverRssMiB();
    const eventsBefore = await countEvents(db.pool);
    const { port } = new URL(base);
    // Half of them never finish their upgrade request; the other half upgrade, then go silent (paused:
    // they neither read nor answer pings, like a peer that vanished without a FIN).
    const raw: net.Socket[] = [];
    const silent: WebSocket[] = [];
    const token = await tokens.issue('ghost');
    try {
      for (let i = 0; i < HALF_OPEN / 2; i++) {
        const socket = net.connect(Number(port), '127.0.0.1');
        socket.on('error', () => {});
        socket.write(`GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`); // no blank line: never ends
        raw.push(socket);
      }
      for (let batch = 0; batch < HALF_OPEN / 2; batch += 100) {
        await Promise.all(
          Array.from({ length: 100 }, () => {
            const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${token}` } });
            silent.push(ws);
            return new Promise<void>((resolve, reject) => ws.once('open', () => resolve(ws.pause())).once('error', reject));
          }),
        );
      }
      await sleep(500);
      const held = serverRssMiB();
      // The server still answers everyone else, REST and WebSocket.
      const bystander = await socketFor('still-served');
      expect(await bystander.request({ op: 'ping', id: 'alive' })).toEqual({ type: 'pong', id: 'alive' });
      bystander.ws.close();
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(Number(/^missive_gateway_open_sockets (\d+)/m.exec(metrics)![1])).toBeGreaterThanOrEqual(HALF_OPEN / 2);
      measured.halfOpen = `${before.toFixed(1)} -> ${held.toFixed(1)} MiB holding ${HALF_OPEN} (${((held - before) * 1024 / HALF_OPEN).toFixed(1)} KiB each)`;
      expect(held - before).toBeLessThan(MAX_GROWTH_MIB.halfOpen);
    } finally {
      for (const s of raw) s.destroy();
      for (const ws of silent) ws.terminate();
    }
    // Once they are gone the server lets go of them.
    await eventually(async () => {
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(Number(/^missive_gateway_open_sockets (\d+)/m.exec(metrics)![1])).toBe(0);
    }, 15_000);
    measured.afterHalfOpen = `${serverRssMiB().toFixed(1)} MiB`;
    expect(await countEvents(db.pool)).toBe(eventsBefore);
  }, 90_000);
});

describe('silent peers and the heartbeat', () => {
  it('terminates 200 sockets that stopped answering pings, and forgets them', async () => {
    const fixture = await createGatewayFixture();
    const g = await startGateway({ ...fixture.deps, allowedOrigins: '*', heartbeatMs: 300 });
    const clients: TestClient[] = [];
    try {
      for (let i = 0; i < 200; i++) clients.push(await connect(g.url, { headers: { authorization: `Bearer ${await fixture.issue(`silent-${i % 30}`)}` } }));
      const answering = await connect(g.url, { headers: { authorization: `Bearer ${await fixture.issue('awake')}` } });
      expect(await metricValue(g.registry, 'missive_gateway_open_sockets')).toBe(201);
      // Paused: their pongs are never sent (a peer that vanished without closing).
      for (const c of clients) c.ws.pause();
      await eventually(async () => expect(await metricValue(g.registry, 'missive_gateway_open_sockets')).toBe(1), 10_000);
      expect(await metricValue(g.registry, 'missive_gateway_closes_total', { reason: 'heartbeat' })).toBe(200);
      expect(await metricValue(g.registry, 'missive_gateway_connected_users')).toBe(1);
      expect(await answering.request({ op: 'ping', id: 'still' })).toEqual({ type: 'pong', id: 'still' });
      answering.ws.terminate();
    } finally {
      for (const c of clients) c.ws.terminate();
      await g.stop();
      await fixture.close();
    }
  }, 60_000);
});
