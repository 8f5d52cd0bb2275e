// End to end through the real process: `missive serve` as a child process, real HTTP and WebSocket
// clients. Also kills the server with SIGKILL in the middle of concurrent sends and checks that every
// acknowledged message survives exactly once, retries get their original seq, and seq has no gap.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import WebSocket from 'ws';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { freePort } from '../support/globalSetup.js';
import { sharedServiceNamesOf } from '../support/sharedServices.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SECRET = 'e2e-secret-at-least-16-chars';

interface Server {
  child: ChildProcess;
  base: string;
}

async function startServe(databaseUrl: string, port: number): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: ROOT,
    env: { ...process.env, ...sharedServiceNamesOf(databaseUrl), DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', MISSIVE_DEV_AUTH: 'true', MISSIVE_JWT_SECRET: SECRET, MISSIVE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 45_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}: ${stderr}`);
    const ok = await fetch(`${base}/readyz`).then((r) => r.ok, () => false);
    if (ok) return { child, base };
    await new Promise((r) => setTimeout(r, 200));
  }
  child.kill('SIGKILL');
  throw new Error(`serve did not become ready: ${stderr}`);
}

async function api(base: string, token: string | null, method: string, url: string, body?: unknown) {
  const res = await fetch(base + url, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const tokenFor = async (base: string, userId: string) => (await api(base, null, 'POST', '/v1/dev/token', { userId })).body.token as string;

describe('missive serve, end to end', () => {
  let db: TestDatabase;
  let port: number;
  let server: Server;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    port = await freePort();
    server = await startServe(db.url, port);
  }, 60_000);
  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await db?.drop();
  });

  it('pushes a hint over WebSocket and the pulled delta has the message', async () => {
    const alice = await tokenFor(server.base, 'alice');
    const bob = await tokenFor(server.base, 'bob');
    const { body: conv } = await api(server.base, alice, 'POST', '/v1/conversations/direct', { peerId: 'bob' });
    const first = await api(server.base, bob, 'GET', '/v1/sync');
    expect(first.status).toBe(200);

    const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/ws`, { headers: { authorization: `Bearer ${bob}` } });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    let hints = 0;
    ws.on('message', (m) => {
      if (JSON.parse(String(m)).type === 'sync') hints++;
    });
    const sent = await api(server.base, alice, 'POST', `/v1/conversations/${conv.conversationId}/messages`, {
      clientMsgId: 'hello-1',
      kind: 'text',
      body: { text: 'hello bob' },
    });
    expect(sent.status).toBe(201);
    // As a client does: on every hint, pull from the last token (an earlier hint may be for the open).
    let token = first.body.nextToken as string;
    const texts: string[] = [];
    let unreadTotal = 0;
    for (let seen = 0, deadline = Date.now() + 15_000; !texts.includes('hello bob') && Date.now() < deadline; ) {
      if (hints === seen) {
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      seen = hints;
      const delta = await api(server.base, bob, 'GET', `/v1/sync?since=${encodeURIComponent(token)}`);
      token = delta.body.nextToken;
      unreadTotal = delta.body.unreadTotal;
      for (const i of delta.body.items as Array<{ item?: { body?: { text?: string } } }>) if (i.item?.body?.text) texts.push(i.item.body.text);
    }
    expect(texts).toEqual(['hello bob']);
    expect(unreadTotal).toBe(1);
    ws.close();

    // serve runs the hot projection: history comes from the hot tier once it has caught up (ms).
    let history = await api(server.base, bob, 'GET', `/v1/conversations/${conv.conversationId}/messages`);
    for (const deadline = Date.now() + 10_000; history.body.tiers?.join() !== 'hot' && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 50));
      history = await api(server.base, bob, 'GET', `/v1/conversations/${conv.conversationId}/messages`);
    }
    expect(history.body).toMatchObject({ tiers: ['hot'], items: [{ seq: 1, kind: 'system' }, { seq: 2, body: { text: 'hello bob' } }] });
  });

  it('loses no acknowledged send when the server is killed mid-load, and retries get the original seq', async () => {
    const owner = await tokenFor(server.base, 'owner');
    const { body: group } = await api(server.base, owner, 'POST', '/v1/groups', { name: 'kill test', memberIds: ['m1', 'm2'] });
    const acked = new Map<string, number>(); // clientMsgId -> seq
    let base = server.base;
    const send = (i: number) =>
      api(base, owner, 'POST', `/v1/conversations/${group.conversationId}/messages`, { clientMsgId: `k-${i}`, kind: 'text', body: { text: `m${i}` } });

    const load = (async () => {
      for (let i = 0; i < 400; i++) {
        const res = await send(i).catch(() => ({ status: 0, body: undefined }));
        if (res.status === 201 || res.status === 200) acked.set(`k-${i}`, res.body.seq);
      }
    })();
    const loadOfOthers = Promise.all(Array.from({ length: 4 }, (_, w) => (async () => {
      for (let i = 0; i < 100; i++) await send(1000 + w * 100 + i).then((res) => { if (res.status < 300) acked.set(`k-${1000 + w * 100 + i}`, res.body.seq); }, () => {});
    })()));
    await new Promise((r) => setTimeout(r, 1500));
    server.child.kill('SIGKILL');
    await Promise.all([load, loadOfOthers]);
    expect(acked.size).toBeGreaterThan(0);

    server = await startServe(db.url, port);
    base = server.base;
    // Every acknowledged send retried after the restart answers 200 with its original seq.
    for (const [clientMsgId, seq] of acked) {
      const i = Number(clientMsgId.slice(2));
      const res = await send(i);
      expect(res.status, clientMsgId).toBe(200);
      expect(res.body.seq).toBe(seq);
    }
    // History has every seq from 1 to the last, once, and each acked message exactly once.
    const maxAcked = Math.max(...acked.values());
    const items: Array<{ seq: number; body?: { text?: string } }> = [];
    // The restarted projector may still be catching up: wait until the history reaches the last ack.
    for (let deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      const last = await api(base, owner, 'GET', `/v1/conversations/${group.conversationId}/messages?limit=1`);
      if ((last.body.items.at(-1)?.seq ?? 0) >= maxAcked) break;
    }
    for (let after = 0; ; ) {
      const page = await api(base, owner, 'GET', `/v1/conversations/${group.conversationId}/messages?after=${after}&limit=200`);
      expect(page.status).toBe(200);
      items.push(...page.body.items);
      if (page.body.items.length < 200) break;
      after = page.body.items.at(-1).seq;
    }
    expect(items.map((i) => i.seq)).toEqual(items.map((_, k) => k + 1));
    for (const [clientMsgId, seq] of acked) expect(items[seq - 1]?.body?.text, clientMsgId).toBe(`m${clientMsgId.slice(2)}`);
  }, 120_000);
});
