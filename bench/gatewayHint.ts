// Send → hint latency across two gateway nodes on loopback. Two `missive serve` child processes share one
// PostgreSQL (embedded, throw-away) and one Redis (REDIS_URL, or a throw-away redis-server on a free
// port): node A runs every role, node B runs api,gateway. Alice sends over her socket on A; the clock
// stops when the recipient's socket receives the sync hint. Measured for a recipient on B (the hint
// crosses Redis pub/sub) and, for comparison, one on A (delivered in-process). Sends are sequential (one
// in flight), so coalescing never merges two measurements. Both include the gateway's 5 ms coalescing
// window. For scale, the bare Redis pub/sub hop between two connections is measured too. Prints JSON.
// Run: npx tsx bench/gatewayHint.ts [sendsPerRecipient=200]  (about a minute on a busy 2-core machine, mostly the two nodes starting)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { Redis } from 'ioredis';
import { callApi, devToken, startServeNode, type ServeNode } from '../test/support/serveNode.js';
import { freePort, machine, microsSince, newHistogram, percentilesMs, startBenchPostgres } from './support.js';

const sends = Number(process.argv[2] ?? 200);
const WARMUP = 20;

async function ownRedis(): Promise<{ url: string; stop(): void }> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'missive-bench-redis-'));
  const child: ChildProcess = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping']).stdout?.toString().trim() === 'PONG') {
      return { url: `redis://127.0.0.1:${port}`, stop: () => (child.kill('SIGKILL'), fs.rmSync(dir, { recursive: true, force: true })) };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('redis-server did not start');
}

/** A socket that resolves `nextHint()` on the next sync frame. */
async function hintSocket(node: ServeNode, token: string) {
  const ws = new WebSocket(node.wsUrl, { headers: { authorization: `Bearer ${token}` } });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  let waiter: (() => void) | null = null;
  const replies = new Map<number, (frame: { type: string }) => void>();
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as { type: string; id?: number };
    if (frame.type === 'sync') waiter?.();
    else if (typeof frame.id === 'number') replies.get(frame.id)?.(frame);
  });
  return {
    ws,
    nextHint: () => new Promise<void>((resolve) => (waiter = resolve)),
    request: (frame: Record<string, unknown> & { id: number }) =>
      new Promise<{ type: string }>((resolve) => {
        replies.set(frame.id, resolve);
        ws.send(JSON.stringify(frame));
      }),
  };
}

/** The pub/sub hop by itself, between two connections of this process: PUBLISH → message received. */
async function pubSubHop(url: string, count: number) {
  const publisher = new Redis(url);
  const subscriber = new Redis(url);
  const channel = `bench-hop-${process.pid}`;
  let received: (() => void) | null = null;
  subscriber.on('message', () => received?.());
  await subscriber.subscribe(channel);
  const histogram = newHistogram();
  for (let i = 0; i < WARMUP + count; i++) {
    const got = new Promise<void>((resolve) => (received = resolve));
    const start = process.hrtime.bigint();
    await publisher.publish(channel, '["bob"]');
    await got;
    if (i >= WARMUP) histogram.recordValue(microsSince(start));
  }
  publisher.disconnect();
  subscriber.disconnect();
  return percentilesMs(histogram);
}

const pgServer = await startBenchPostgres();
const redis = process.env['REDIS_URL'] ? { url: process.env['REDIS_URL'], stop: () => undefined } : await ownRedis();
const keyPrefix = `bench-${process.pid}-${Date.now()}:`;
const shared = { DATABASE_URL: pgServer.connectionString, REDIS_URL: redis.url, MISSIVE_REDIS_KEY_PREFIX: keyPrefix };
const nodes: ServeNode[] = [];
try {
  const nodeA = await startServeNode({ ...shared, MISSIVE_NODE_ID: 'bench-a' });
  nodes.push(nodeA);
  const nodeB = await startServeNode({ ...shared, MISSIVE_NODE_ID: 'bench-b', MISSIVE_ROLES: 'api,gateway' });
  nodes.push(nodeB);
  const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((u) => devToken(nodeA.base, u)));
  const sender = await hintSocket(nodeA, alice!);
  const recipients = { crossNode: await hintSocket(nodeB, bob!), sameNode: await hintSocket(nodeA, carol!) };
  const conversations = {
    crossNode: (await callApi(nodeA.base, alice!, 'POST', '/v1/conversations/direct', { peerId: 'bob' })).body.conversationId as string,
    sameNode: (await callApi(nodeA.base, alice!, 'POST', '/v1/conversations/direct', { peerId: 'carol' })).body.conversationId as string,
  };
  await new Promise((r) => setTimeout(r, 1_000)); // the openings' hints and the sockets' registration pass

  let id = 0;
  const results: Record<string, ReturnType<typeof percentilesMs>> = {};
  for (const kind of ['crossNode', 'sameNode'] as const) {
    const histogram = newHistogram();
    for (let i = 0; i < WARMUP + sends; i++) {
      const hinted = recipients[kind].nextHint();
      const start = process.hrtime.bigint();
      const ack = await sender.request({ op: 'send', id: ++id, conversationId: conversations[kind], clientMsgId: `${kind}-${i}`, kind: 'text', body: { text: `m${i}` } });
      if (ack.type !== 'send.ack') throw new Error(`send failed: ${JSON.stringify(ack)}`);
      await hinted;
      if (i >= WARMUP) histogram.recordValue(microsSince(start));
    }
    results[kind] = percentilesMs(histogram);
  }
  results['redisPubSubHopAlone'] = await pubSubHop(redis.url, sends);
  sender.ws.close();
  for (const r of Object.values(recipients)) r.ws.close();
  console.log(
    JSON.stringify(
      {
        benchmark: 'send → hint, two gateway nodes (A: all roles; B: api,gateway) on loopback',
        measured: 'from the send op written on A to the sync frame received by the recipient; sequential sends',
        sendsPerRecipient: sends,
        warmup: WARMUP,
        redis: process.env['REDIS_URL'] ? 'REDIS_URL' : 'own redis-server',
        results,
        machine: machine(),
      },
      null,
      2,
    ),
  );
} finally {
  await Promise.all(nodes.map((n) => n.stop()));
  redis.stop();
  await pgServer.stop();
}
