// The data ops over real sockets against the real write side (command handler on the PostgreSQL event
// store) and the real read models (projection runner), with the gateway on the REST API's own server:
// send acks with its seq and a retry acks the same seq; refusals carry the REST codes; sync returns the
// delta; presence and metrics are readable through the API; and the full push-pull loop — a send on one
// device hints the other devices, which pull the message.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, eventually, startGateway, type Frame, type RunningGateway, type TestClient } from './gatewayHarness.js';
import { createGatewayFixture, type GatewayFixture } from './gatewayFixture.js';
import type { FastifyInstance } from 'fastify';
import { decodeSyncToken, encodeSyncToken } from '../../src/api/syncToken.js';
import { usersToHint } from '../../src/server/hintFeed.js';
import { SYNC_PROJECTIONS } from '../../src/projections/sync/getDelta.js';

let fixture: GatewayFixture;
let g: RunningGateway & { app?: FastifyInstance };
const clients: TestClient[] = [];

beforeAll(async () => {
  fixture = await createGatewayFixture();
  g = await startGateway({ ...fixture.deps, allowedOrigins: '*', coalesceMs: 5 }, fixture.buildApi);
});
afterEach(() => {
  for (const client of clients.splice(0)) client.ws.terminate();
});
afterAll(async () => {
  await g?.stop();
  await fixture?.close();
});

async function device(userId: string, deviceId = 'd1'): Promise<TestClient> {
  const client = await connect(`${g.url}?deviceId=${deviceId}`, { headers: { authorization: `Bearer ${await fixture.issue(userId)}` } });
  clients.push(client);
  return client;
}

let requestNo = 0;
const ask = (client: TestClient, op: Record<string, unknown>) => client.request({ ...op, id: ++requestNo });
const itemTexts = (frame: Frame) =>
  (frame.items as Array<{ type: string; item?: { body?: { text?: string } } }>).filter((i) => i.type === 'item').map((i) => i.item?.body?.text);

describe('op send', () => {
  it('acks with the seq, and a retry with the same clientMsgId acks the same message and seq', async () => {
    const { conversationId } = await fixture.deps.commands.createGroup({ actorId: 'ana' }, { name: 'team', memberIds: ['ben'] });
    const ana = await device('ana');
    const send = { op: 'send', conversationId, clientMsgId: 'm-1', kind: 'text', body: { text: 'hello' } };
    const first = await ask(ana, send);
    expect(first).toMatchObject({ type: 'send.ack', seq: 2, duplicate: false });
    expect(first.messageId).toEqual(expect.any(String));
    const retry = await ask(ana, send);
    expect(retry).toEqual({ ...first, id: retry.id, duplicate: true });
    const next = await ask(ana, { ...send, clientMsgId: 'm-2' });
    expect(next).toMatchObject({ type: 'send.ack', seq: 3, duplicate: false });
  });

  it('keeps the order of one device’s sends: replies come back in request order with increasing seqs', async () => {
    const { conversationId } = await fixture.deps.commands.createGroup({ actorId: 'ana' }, { name: 'order', memberIds: ['ben'] });
    const ana = await device('ana', 'phone');
    const from = ana.frames.length;
    for (let i = 0; i < 20; i++) ana.send({ op: 'send', id: `o${i}`, conversationId, clientMsgId: `order-${i}`, kind: 'text', body: { text: `${i}` } });
    await ana.waitFor((f) => f.id === 'o19', { from });
    const acks = ana.frames.slice(from).filter((f) => f.type === 'send.ack');
    expect(acks.map((a) => a.id)).toEqual(Array.from({ length: 20 }, (_, i) => `o${i}`));
    expect(acks.map((a) => a.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 2));
    // A slow op (a database read) followed by an instant one: the instant one still answers second.
    const mark = ana.frames.length;
    ana.send({ op: 'sync', id: 'slow' });
    ana.send({ op: 'ping', id: 'fast' });
    await ana.waitFor((f) => f.id === 'fast', { from: mark });
    expect(ana.frames.slice(mark).map((f) => f.id)).toEqual(['slow', 'fast']);
  });

  it('refuses with the same code as the REST send, for malformed and for forbidden sends', async () => {
    const { conversationId } = await fixture.deps.commands.createGroup({ actorId: 'ana' }, { name: 'closed', memberIds: ['ben'] });
    const eve = await device('eve');
    const token = await fixture.issue('eve');
    const ok = { conversationId, clientMsgId: 'x-1', kind: 'text', body: { text: 'let me in' } };
    const cases = [
      ok,
      { ...ok, kind: 'video' },
      { ...ok, conversationId: 'not-a-uuid' },
      { ...ok, clientMsgId: 'has space' },
      { ...ok, body: { text: 'x'.repeat(20_000) } },
    ];
    const codes: string[] = [];
    for (const { conversationId: target, ...body } of cases) {
      const rest = await g.app!.inject({
        method: 'POST',
        url: `/v1/conversations/${target}/messages`,
        headers: { authorization: `Bearer ${token}` },
        payload: body,
      });
      const restCode = (rest.json() as { code: string }).code;
      expect(await ask(eve, { op: 'send', conversationId: target, ...body })).toMatchObject({ type: 'error', code: restCode });
      codes.push(restCode);
    }
    expect(new Set(codes).size).toBeGreaterThanOrEqual(3);
    // Nothing was stored: the first real send is still seq 2.
    const ana = await device('ana', 'tablet');
    expect(await ask(ana, { op: 'send', ...ok })).toMatchObject({ type: 'send.ack', seq: 2 });
  });
});

describe('through the REST API on the same server', () => {
  it('reads presence from the gateway and serves the gateway metrics on /metrics', async () => {
    const token = await fixture.issue('hal');
    const presence = async () =>
      (await g.app!.inject({ method: 'GET', url: '/v1/presence?userIds=ivy,nobody', headers: { authorization: `Bearer ${token}` } })).json() as {
        items: Array<{ userId: string; online: boolean; lastSeen: string | null }>;
      };
    expect((await presence()).items).toEqual([
      { userId: 'ivy', online: false, lastSeen: null },
      { userId: 'nobody', online: false, lastSeen: null },
    ]);
    const ivy = await device('ivy');
    expect((await presence()).items[0]).toMatchObject({ userId: 'ivy', online: true });
    const metrics = await g.app!.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^missive_gateway_open_sockets [1-9]/m);
    ivy.ws.close();
    await ivy.closed;
    await eventually(async () => expect((await presence()).items[0]).toMatchObject({ online: false, lastSeen: expect.any(String) }));
  });
});

describe('op sync', () => {
  it('returns the session list and a token without `since`, then the delta since that token', async () => {
    const { conversationId } = await fixture.deps.commands.createGroup({ actorId: 'cora' }, { name: 'sync', memberIds: ['dan'] });
    await fixture.runner.catchUp();
    const dan = await device('dan');
    const fresh = await ask(dan, { op: 'sync' });
    expect(fresh).toMatchObject({ type: 'sync.result', items: [], hasMore: false });
    expect((fresh.conversations as Array<{ conversationId: string }>).map((c) => c.conversationId)).toContain(conversationId);
    for (const text of ['one', 'two', 'three']) {
      await fixture.deps.commands.sendMessage({ actorId: 'cora' }, conversationId, { clientMsgId: `s-${text}`, kind: 'text', body: { text } });
    }
    await fixture.runner.catchUp();
    const firstPage = await ask(dan, { op: 'sync', since: fresh.nextToken, limit: 2 });
    expect(itemTexts(firstPage)).toEqual(['one', 'two']);
    expect(firstPage).toMatchObject({ hasMore: true });
    const rest = await ask(dan, { op: 'sync', since: firstPage.nextToken });
    expect(itemTexts(rest)).toEqual(['three']);
    expect(rest).toMatchObject({ hasMore: false, unreadTotal: 3 });
    expect(rest.conversations).toEqual([expect.objectContaining({ conversationId, unread: 3, lastSeq: 4 })]);
  });

  it('answers invalid_sync_token and resync_required as errors and keeps the socket', async () => {
    await fixture.runner.catchUp();
    const dan = await device('dan', 'laptop');
    expect(await ask(dan, { op: 'sync', since: 'bm90LWEtdG9rZW4' })).toMatchObject({ type: 'error', code: 'invalid_sync_token' });
    const fresh = await ask(dan, { op: 'sync' });
    const cursor = decodeSyncToken(String(fresh.nextToken));
    const stale = encodeSyncToken({ ...cursor, epoch: cursor.epoch + 1 });
    expect(await ask(dan, { op: 'sync', since: stale })).toMatchObject({ type: 'error', code: 'resync_required' });
    expect(await ask(dan, { op: 'ping' })).toMatchObject({ type: 'pong' });
  });
});

describe('push-pull', () => {
  it('hints every device of the members after a send over the socket, and their pull finds the message', async () => {
    const sync = new Set<string>(SYNC_PROJECTIONS);
    fixture.onApplied = async (projection, events) => {
      if (sync.has(projection)) g.gateway.notifyUsers(await usersToHint(fixture.db.pool, [...events]));
    };
    const { conversationId } = await fixture.deps.commands.createGroup({ actorId: 'fay' }, { name: 'live', memberIds: ['gus'] });
    await fixture.runner.catchUp();
    await fixture.runner.start();
    try {
      const fay = await device('fay');
      const gusPhone = await device('gus', 'phone');
      const gusLaptop = await device('gus', 'laptop');
      // Each device starts from a token at the current heads (the group is already in the views).
      const tokens = new Map<TestClient, unknown>();
      for (const d of [gusPhone, gusLaptop]) tokens.set(d, (await ask(d, { op: 'sync' })).nextToken);
      const hintsBefore = new Map([gusPhone, gusLaptop].map((d) => [d, d.frames.length]));
      const ack = await ask(fay, { op: 'send', conversationId, clientMsgId: 'live-1', kind: 'text', body: { text: 'ping from fay' } });
      for (const d of [gusPhone, gusLaptop]) {
        // Pull on each hint until the message shows up (a hint may come from a projection that
        // committed before the others did); bounded by waitFor's timeout.
        let found: Array<string | undefined> = [];
        let from = hintsBefore.get(d)!;
        while (!found.includes('ping from fay')) {
          const hint = await d.waitFor((f) => f.type === 'sync', { from });
          from = d.frames.indexOf(hint) + 1;
          const delta = await ask(d, { op: 'sync', since: tokens.get(d) });
          found = itemTexts(delta);
        }
        expect(found).toEqual(['ping from fay']);
      }
      expect(ack).toMatchObject({ type: 'send.ack', seq: 2 });
    } finally {
      fixture.onApplied = null;
      await fixture.runner.stop();
    }
  });
});
