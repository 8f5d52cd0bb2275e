// The gateway through real sockets on 127.0.0.1: refusals before the upgrade, the three token sources,
// coalesced hints to every device, presence, heartbeat, token expiry, frame limits, bad frames and slow
// consumers. The send and sync ops are in gatewayOps.int.spec.ts.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, eventually, metricValue, refusal, sleep, startGateway, type RunningGateway, type TestClient } from './gatewayHarness.js';
import { createGatewayFixture, type GatewayFixture } from './gatewayFixture.js';
import type { GatewayDeps } from '../../src/gateway/gateway.js';

const ORIGIN = 'https://app.example.com';
let fixture: GatewayFixture;
const running: RunningGateway[] = [];
const clients: TestClient[] = [];

beforeAll(async () => {
  fixture = await createGatewayFixture();
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate();
  await Promise.all(running.splice(0).map((g) => g.stop()));
});
afterAll(async () => {
  await fixture?.close();
});

async function gatewayWith(overrides: Partial<GatewayDeps> = {}): Promise<RunningGateway> {
  const started = await startGateway({ ...fixture.deps, allowedOrigins: [ORIGIN], ...overrides });
  running.push(started);
  return started;
}

async function device(g: RunningGateway, userId: string, query = ''): Promise<TestClient> {
  const client = await connect(`${g.url}${query}`, { headers: { authorization: `Bearer ${await fixture.issue(userId)}` } });
  clients.push(client);
  return client;
}

const isHint = (f: { type: string }) => f.type === 'sync';
const hintCount = (c: TestClient) => c.frames.filter(isHint).length;

describe('upgrade', () => {
  it('refuses with 401 before the upgrade without a token, with a bad one or an expired one', async () => {
    const g = await gatewayWith();
    expect(await refusal(g.url)).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
    expect(await refusal(g.url, { headers: { authorization: 'Bearer not-a-token' } })).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
    expect(await refusal(`${g.url}?access_token=${'x'.repeat(40)}`)).toMatchObject({ status: 401 });
    const expired = await fixture.issueExpired('u-expired');
    expect(await refusal(g.url, { headers: { authorization: `Bearer ${expired}` } })).toMatchObject({ status: 401, body: { code: 'token_expired' } });
    expect(await metricValue(g.registry, 'missive_gateway_upgrades_refused_total')).toBe(4);
    expect(await metricValue(g.registry, 'missive_gateway_open_sockets')).toBe(0);
  });

  it('refuses with 403 a browser Origin that is not allowed, even with a valid token', async () => {
    const g = await gatewayWith();
    const token = await fixture.issue('u-origin');
    expect(await refusal(g.url, { origin: 'https://evil.example.com', headers: { authorization: `Bearer ${token}` } })).toMatchObject({
      status: 403,
      body: { code: 'origin_not_allowed' },
    });
    const allowed = await connect(g.url, { origin: ORIGIN, headers: { authorization: `Bearer ${token}` } });
    clients.push(allowed);
    expect(allowed.ws.readyState).toBe(allowed.ws.OPEN);
  });

  it('accepts the token from the header, the bearer subprotocol or the query, and answers with missive.v1', async () => {
    const g = await gatewayWith();
    const token = await fixture.issue('u-sources');
    const viaHeader = await connect(g.url, { headers: { authorization: `Bearer ${token}` } });
    const viaProtocol = await connect(g.url, { protocols: ['missive.v1', `missive.bearer.${token}`] });
    const viaQuery = await connect(`${g.url}?access_token=${encodeURIComponent(token)}`);
    clients.push(viaHeader, viaProtocol, viaQuery);
    expect(viaProtocol.ws.protocol).toBe('missive.v1');
    for (const client of [viaHeader, viaProtocol, viaQuery]) {
      expect(await client.request({ op: 'ping', id: 1 })).toEqual({ type: 'pong', id: 1 });
    }
    expect(g.gateway.connectedUsers()).toBe(1);
    expect(await metricValue(g.registry, 'missive_gateway_open_sockets')).toBe(3);
  });

  it('answers 404 for another path when no other upgrade handler exists', async () => {
    const g = await gatewayWith();
    const token = await fixture.issue('u-path');
    expect(await refusal(g.url.replace('/v1/ws', '/v1/other'), { headers: { authorization: `Bearer ${token}` } })).toMatchObject({ status: 404 });
  });
});

describe('hints', () => {
  it('gives every device of a user exactly one hint for a burst of notices, and nothing to others', async () => {
    const g = await gatewayWith({ coalesceMs: 30 });
    const phone = await device(g, 'u-burst', '?deviceId=phone');
    const laptop = await device(g, 'u-burst', '?deviceId=laptop');
    const bystander = await device(g, 'u-bystander');
    for (let i = 0; i < 100; i++) g.gateway.notifyUsers(['u-burst', 'u-offline']);
    await phone.waitFor(isHint);
    await laptop.waitFor(isHint);
    await sleep(150);
    expect(phone.frames).toEqual([{ type: 'sync', token: null }]);
    expect(laptop.frames).toEqual([{ type: 'sync', token: null }]);
    expect(hintCount(bystander)).toBe(0);
    expect(await metricValue(g.registry, 'missive_gateway_hints_sent_total')).toBe(2);
    g.gateway.notifyUsers(['u-burst']);
    await phone.waitFor(isHint, { from: 1 });
    await laptop.waitFor(isHint, { from: 1 });
  });
});

describe('presence', () => {
  it('is online while any device is connected, then offline with the last disconnect time', async () => {
    const g = await gatewayWith();
    expect(await g.gateway.presence.get(['u-presence'])).toEqual([{ userId: 'u-presence', online: false, lastSeen: null }]);
    const first = await device(g, 'u-presence');
    const second = await device(g, 'u-presence');
    const [online] = await g.gateway.presence.get(['u-presence']);
    expect(online).toMatchObject({ online: true });
    first.ws.close();
    await first.closed;
    await eventually(async () => expect(await metricValue(g.registry, 'missive_gateway_open_sockets')).toBe(1));
    expect((await g.gateway.presence.get(['u-presence']))[0]).toMatchObject({ online: true });
    const before = Date.now();
    second.ws.close();
    await second.closed;
    await eventually(async () => expect((await g.gateway.presence.get(['u-presence']))[0]?.online).toBe(false));
    const [offline] = await g.gateway.presence.get(['u-presence']);
    expect(Date.parse(offline!.lastSeen!)).toBeGreaterThanOrEqual(before - 5);
    expect(Date.parse(offline!.lastSeen!)).toBeLessThanOrEqual(Date.now());
    expect(g.gateway.connectedUsers()).toBe(0);
  });
});

describe('liveness and limits', () => {
  it('terminates a client that stops answering pings after two missed pongs, and keeps one that answers', async () => {
    const g = await gatewayWith({ heartbeatMs: 100 });
    const token = await fixture.issue('u-heartbeat');
    // Measured from before the connect: the first ping comes at the gateway's next beat, the socket dies
    // two beats later, so at least two intervals after it opened (5 ms for timer rounding). It was
    // measured after the second connect and flaked under load (192 ms < 200 ms).
    const started = Date.now();
    const silent = await connect(g.url, { headers: { authorization: `Bearer ${token}` }, autoPong: false });
    const healthy = await device(g, 'u-heartbeat-ok');
    clients.push(silent);
    const { code } = await silent.closed;
    expect(code).toBe(1006);
    expect(Date.now() - started).toBeGreaterThanOrEqual(195);
    await eventually(async () => expect(await metricValue(g.registry, 'missive_gateway_closes_total', { reason: 'heartbeat' })).toBe(1));
    await sleep(300);
    expect(healthy.ws.readyState).toBe(healthy.ws.OPEN);
  });

  it('closes with 4001 when the token expires', async () => {
    const g = await gatewayWith();
    // Two seconds: `exp` is whole seconds, so a 1 s token may have almost nothing left when it arrives.
    const token = await fixture.issue('u-expiry', { ttlSeconds: 2 });
    const { expiresAt } = await fixture.deps.tokens.verify(token);
    const client = await connect(g.url, { headers: { authorization: `Bearer ${token}` } });
    clients.push(client);
    expect(await client.closed).toEqual({ code: 4001, reason: 'token_expired' });
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
  });

  it('moves the expiry with op auth, and closes with 4002 for another user’s token', async () => {
    const g = await gatewayWith();
    const client = await connect(g.url, { headers: { authorization: `Bearer ${await fixture.issue('u-renew', { ttlSeconds: 2 })}` } });
    clients.push(client);
    const renewed = await client.request({ op: 'auth', id: 'a1', token: await fixture.issue('u-renew') });
    expect(renewed).toMatchObject({ type: 'auth.ok', id: 'a1' });
    expect(Date.parse(String(renewed.expiresAt))).toBeGreaterThan(Date.now() + 60_000);
    expect(await client.request({ op: 'auth', id: 'a2', token: 'garbage' })).toMatchObject({ type: 'error', code: 'unauthorized' });
    await sleep(2100);
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    client.send({ op: 'auth', id: 'a3', token: await fixture.issue('someone-else') });
    expect(await client.closed).toEqual({ code: 4002, reason: 'unauthorized' });
  });

  it('closes with 1009 on a frame above the maximum size', async () => {
    const g = await gatewayWith({ maxFrameBytes: 1024 });
    const client = await device(g, 'u-big');
    expect(await client.request({ op: 'ping', id: 'x'.repeat(100) })).toMatchObject({ type: 'pong' });
    client.send({ op: 'ping', id: 'y', pad: 'z'.repeat(2000) });
    expect((await client.closed).code).toBe(1009);
  });

  it('answers bad frames with an error frame and keeps the socket open', async () => {
    const g = await gatewayWith();
    const client = await device(g, 'u-bad');
    client.ws.send('{not json');
    expect(await client.waitFor((f) => f.type === 'error')).toMatchObject({ id: null, code: 'bad_frame' });
    expect(await client.request({ op: 'teleport', id: 2 })).toMatchObject({ type: 'error', code: 'unknown_op' });
    expect(await client.request({ op: 'send', id: 3, conversationId: 'c' })).toMatchObject({ type: 'error', code: 'validation_failed' });
    expect(await client.request({ op: 'sync', id: 4, since: 'not-a-token' })).toMatchObject({ type: 'error', code: 'invalid_sync_token' });
    expect(await client.request({ op: 'ping', id: 5 })).toEqual({ type: 'pong', id: 5 });
  });
});

describe('shutdown', () => {
  it('closes every socket with 1001 and refuses new upgrades with 503', async () => {
    const g = await gatewayWith();
    const a = await device(g, 'u-shutdown');
    const b = await device(g, 'u-shutdown-2');
    await g.gateway.close();
    expect(await a.closed).toEqual({ code: 1001, reason: 'going_away' });
    expect(await b.closed).toEqual({ code: 1001, reason: 'going_away' });
    const token = await fixture.issue('u-late');
    expect(await refusal(g.url, { headers: { authorization: `Bearer ${token}` } })).toMatchObject({ status: 503, body: { code: 'shutting_down' } });
  });
});

describe('slow consumers', () => {
  it('drops hints instead of queueing them, stops reading requests, then closes with 4008', async () => {
    const stuckMs = 300;
    const g = await gatewayWith({ maxBufferedBytes: 64 * 1024, stuckMs, closeTimeoutMs: 10_000, coalesceMs: 1 });
    const client = await device(g, 'u-slow');
    g.gateway.notifyUsers(['u-slow']);
    await client.waitFor(isHint);
    // Stop reading, then ask for far more replies than the kernel buffers hold (a few MB on loopback).
    client.ws.pause();
    const pings = 60_000;
    const id = 'p'.repeat(100);
    for (let i = 0; i < pings; i++) client.send({ op: 'ping', id: `${id}${i}` });
    const dropped = () => metricValue(g.registry, 'missive_gateway_hints_dropped_total');
    const deadline = Date.now() + 15_000;
    while ((await dropped()) === 0 && Date.now() < deadline) {
      g.gateway.notifyUsers(['u-slow']);
      await sleep(20);
    }
    expect(await dropped()).toBeGreaterThan(0);
    const sentBefore = await metricValue(g.registry, 'missive_gateway_hints_sent_total');
    for (let i = 0; i < 5; i++) {
      g.gateway.notifyUsers(['u-slow']);
      await sleep(10);
    }
    expect(await metricValue(g.registry, 'missive_gateway_hints_sent_total')).toBe(sentBefore);
    // Give the stuck timer ample time to fire, then read again: the close frame waits behind the backlog.
    await sleep(stuckMs + 1500);
    client.ws.resume();
    expect(await client.closed).toEqual({ code: 4008, reason: 'slow_consumer' });
    // Dropped hints were never queued: the client got exactly the hints counted as sent.
    expect(hintCount(client)).toBe(sentBefore);
    // The server stopped reading requests once congested: far fewer pongs than pings came back.
    const pongs = client.frames.filter((f) => f.type === 'pong').length;
    expect(pongs).toBeLessThan(pings);
    await eventually(async () => expect(await metricValue(g.registry, 'missive_gateway_closes_total', { reason: 'slow_consumer' })).toBe(1));
  });
});
