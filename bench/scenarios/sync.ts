// sync: (1) delta pull latency for pages of 1, 50 and 500 items: --readers (20) members of a small group
// take a sync token, the group gets 510 messages, then `GET /v1/sync?since=<that token>&limit=k` is
// timed --reps times per k (2000,1000,300), one request at a time (latency, not throughput), round-robin
// over the readers. Each such pull is a real k-item delta (the same one each time).
// (2) catch-up: a device goes offline, --catchup (20,000; 100,000 for the full-size claim) messages
// arrive over --catchup-senders (200) direct conversations, then the device pulls pages of 500 until
// hasMore is false; timed from the first pull to the last.
import { sleep, wallMs } from '../load/clock.js';
import type { Ack, Delivered, PullSample, SendReport, SenderSpec } from '../load/protocol.js';
import { expectStatus, type JsonClient } from '../lib/http.js';
import { checkZeroLoss } from '../lib/loss.js';
import { shares, startLoadPool, type LoadPool } from '../lib/loadPool.js';
import { LatencyRecorder, type Percentiles } from '../lib/stats.js';
import { numberFlag, round, type Scenario, type ScenarioContext } from '../lib/scenario.js';
import { createGroup, inParallel, makeUsers, openDirect, waitMember, type User } from '../lib/world.js';

const PAGE_SIZES = [1, 50, 500] as const;
const MESSAGES_FOR_PAGES = 510;

interface DeltaItem {
  type: string;
  conversationId: string;
  seq: number;
  item?: { messageId?: string };
}
interface Delta {
  items: DeltaItem[];
  nextToken: string;
  hasMore: boolean;
  unreadTotal: number;
}

/** A fresh token at the head of the user's inbox (first pull without `since`, drained). */
async function tokenAtHead(client: JsonClient, user: User): Promise<string> {
  let token: string | undefined;
  for (let page = 0; page < 1_000; page++) {
    const delta = await expectStatus(client.request<Delta>('GET', `/v1/sync${token ? `?since=${encodeURIComponent(token)}&limit=500` : ''}`, user.token), [200], 'sync');
    token = delta.nextToken;
    if (!delta.hasMore && page > 0) return token;
  }
  throw new Error('sync never drained');
}

async function waitUnread(client: JsonClient, user: User, atLeast: number, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const res = await client.request<{ total: number }>('GET', '/v1/unread', user.token);
    if (res.status === 200 && res.body.total >= atLeast) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`${user.userId} has ${res.body.total} unread, expected ${atLeast}, after ${timeoutMs} ms`);
    await sleep(250);
  }
}

/**
 * Waits until `user`'s sync delta since `since` holds at least `count` message items. Unread comes
 * from the sessions projection, the delta from inbox and timeline: each follows the log at its own
 * pace, so unread can be complete while the delta still ends a few items short (a device would get a
 * hint when the rest lands). Measurements start from a complete delta. Pulls without keeping tokens.
 */
async function waitDeltaHolds(client: JsonClient, user: User, since: string, count: number, timeoutMs: number): Promise<void> {
  const started = Date.now();
  for (;;) {
    let token = since;
    let items = 0;
    for (let pages = 0; pages < 10_000; pages++) {
      const res = await client.request<Delta>('GET', `/v1/sync?since=${encodeURIComponent(token)}&limit=500`, user.token);
      if (res.status !== 200) break;
      items += res.body.items.filter((i) => i.type === 'item' && i.item?.messageId).length;
      token = res.body.nextToken;
      if (!res.body.hasMore || items >= count) break;
    }
    if (items >= count) return;
    if (Date.now() - started > timeoutMs) throw new Error(`${user.userId}'s delta holds ${items} items, expected ${count}, after ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function sendCount(pool: LoadPool, senders: SenderSpec[], total: number, concurrency: number, tag: string): Promise<{ acks: Ack[]; failed: number }> {
  const parts = shares(senders, pool.size);
  const reports = await pool.all<SendReport>((w) => ({ cmd: 'sendClosed', senders: parts[w]!, concurrency: Math.max(1, Math.round(concurrency / pool.size)), durationMs: 30 * 60_000, tag, maxSends: Math.ceil(total / pool.size) }));
  return { acks: reports.flatMap((r) => r.acks), failed: reports.reduce((n, r) => n + r.failed.length, 0) };
}

async function pageLatencies(ctx: ScenarioContext, pool: LoadPool, reps: number[]) {
  const readerCount = numberFlag(ctx, 'readers', 20, 3);
  const users = await makeUsers(ctx.target, 'sr', readerCount + 1);
  const [sender, ...readers] = users as [User, ...User[]];
  const conversationId = await createGroup(ctx.client, sender, users, 'sync bench');
  await waitMember(ctx.client, readers[readers.length - 1]!, conversationId);
  const tokens = await inParallel(readers, 8, (r) => tokenAtHead(ctx.client, r));
  const sent = await sendCount(pool, [{ userId: sender.userId, token: sender.token, conversationId, url: ctx.target.urls[0]! }], MESSAGES_FOR_PAGES, 8, 'page');
  await inParallel(readers, 4, (r) => waitUnread(ctx.client, r, MESSAGES_FOR_PAGES, 120_000));
  await inParallel(readers, 4, (r, j) => waitDeltaHolds(ctx.client, r, tokens[j]!, MESSAGES_FOR_PAGES, 120_000));
  const latencies: Record<string, Percentiles> = {};
  const series: Array<{ name: string; points: ReturnType<LatencyRecorder['series']> }> = [];
  const problems: Record<string, number> = {};
  for (const [i, k] of PAGE_SIZES.entries()) {
    const started = wallMs();
    const result = await pool.call<{ samples: PullSample[]; wrongCounts: number; errors: number }>(0, {
      cmd: 'pullRepeat',
      readers: readers.map((r, j) => ({ token: r.token, since: tokens[j]!, url: ctx.target.urls[j % ctx.target.urls.length]! })),
      limit: k,
      reps: reps[i]!,
      concurrency: 1,
    });
    const recorder = new LatencyRecorder(started);
    for (const s of result.samples) recorder.record(s.doneAt, s.latencyMs);
    latencies[`pull of ${k} item${k > 1 ? 's' : ''}`] = recorder.percentiles();
    series.push({ name: `${k} item${k > 1 ? 's' : ''}`, points: recorder.series() });
    problems[`pages of ${k} with another size`] = result.wrongCounts;
    problems[`pulls of ${k} that failed`] = result.errors;
    ctx.log(`pull of ${k}: p50 ${recorder.percentiles().p50} ms, p99 ${recorder.percentiles().p99} ms`);
  }
  return { latencies, series, problems, sent, conversationId, sender, readers };
}

async function catchUp(ctx: ScenarioContext, pool: LoadPool, total: number, senderCount: number) {
  const [device] = await makeUsers(ctx.target, 'cu', 1);
  const senders = await makeUsers(ctx.target, 'cus', senderCount);
  const conversations = await inParallel(senders, 16, (s) => openDirect(ctx.client, s, device!));
  const since = await tokenAtHead(ctx.client, device!);
  ctx.log(`device offline; sending ${total} messages over ${senderCount} conversations`);
  const sendStarted = Date.now();
  const sent = await sendCount(pool, senders.map((s, i) => ({ userId: s.userId, token: s.token, conversationId: conversations[i]!, url: ctx.target.urls[i % ctx.target.urls.length]! })), total, 64, 'cu');
  const sendSeconds = (Date.now() - sendStarted) / 1000;
  await waitUnread(ctx.client, device!, sent.acks.length, 600_000);
  await waitDeltaHolds(ctx.client, device!, since, sent.acks.length, 600_000);
  const pageLatency = new LatencyRecorder(wallMs());
  const delivered: Delivered[] = [];
  let token = since;
  let pages = 0;
  const started = wallMs();
  for (; pages < 100_000; ) {
    const t = wallMs();
    const res = await ctx.client.request<Delta>('GET', `/v1/sync?since=${encodeURIComponent(token)}&limit=500`, device!.token);
    if (res.status === 429) {
      await sleep(1_000);
      continue;
    }
    if (res.status !== 200) throw new Error(`catch-up pull: HTTP ${res.status}`);
    const now = wallMs();
    pages++;
    pageLatency.record(now, now - t);
    for (const item of res.body.items) {
      if (item.type === 'item' && item.item?.messageId) delivered.push({ userId: device!.userId, conversationId: item.conversationId, seq: item.seq, messageId: item.item.messageId, index: null, sentAt: 0, hintAt: null, visibleAt: now });
    }
    token = res.body.nextToken;
    if (!res.body.hasMore) break;
  }
  const seconds = (wallMs() - started) / 1000;
  ctx.log(`caught up on ${delivered.length} items in ${round(seconds, 2)} s (${pages} pages)`);
  return { sent, sendSeconds, seconds, pages, delivered, pageLatency, device: device!, senders, conversations };
}

export const syncScenario: Scenario = {
  name: 'sync',
  async run(ctx) {
    const reps = (ctx.flags.reps ?? (ctx.quick ? '30,20,10' : '2000,1000,300')).split(',').map(Number);
    if (reps.length !== 3 || reps.some((r) => !(r > 0))) throw new Error('--reps is three positive counts: for 1, 50 and 500 items');
    const total = numberFlag(ctx, 'catchup', 20_000, 300);
    const senderCount = numberFlag(ctx, 'catchup-senders', 200, 5);
    const pool = startLoadPool(1, ctx.target.urls, 128);
    try {
      const pages = await pageLatencies(ctx, pool, reps);
      const cu = await catchUp(ctx, pool, total, senderCount);
      const member = new Map<string, string>([[pages.conversationId, pages.sender.token]]);
      cu.conversations.forEach((c) => member.set(c, cu.device.token));
      const acks = [...pages.sent.acks, ...cu.sent.acks];
      const zeroLoss = await checkZeroLoss({
        client: ctx.client,
        acks,
        failed: pages.sent.failed + cu.sent.failed,
        readerOf: (c) => member.get(c)!,
        deliveries: {
          delivered: cu.delivered,
          // Only the catch-up's deliveries are checked here: the page pulls re-read one fixed delta.
          recipientsOf: (c) => (c === pages.conversationId ? [] : [cu.device.userId]),
          senderOf: (a) => a.senderId,
        },
      });
      const wrong = Object.values(pages.problems).reduce((a, b) => a + b, 0);
      zeroLoss.details.pagePulls = pages.problems;
      zeroLoss.ok &&= wrong === 0;
      const p50 = pages.latencies['pull of 50 items']!;
      return {
        title: 'delta pull latency (1, 50, 500 items) and catch-up after an offline stretch',
        params: { reps, readers: pages.readers.length, catchup: total, catchupSenders: senderCount, pageSizeForCatchUp: 500 },
        headline: {
          'pull of 1 item p50 / p99 (ms)': `${pages.latencies['pull of 1 item']!.p50} / ${pages.latencies['pull of 1 item']!.p99}`,
          'pull of 50 items p50 / p99 (ms)': `${p50.p50} / ${p50.p99}`,
          'pull of 500 items p50 / p99 (ms)': `${pages.latencies['pull of 500 items']!.p50} / ${pages.latencies['pull of 500 items']!.p99}`,
          [`catch-up of ${cu.delivered.length} messages (s)`]: round(cu.seconds, 2),
          'catch-up rate (items/s)': round(cu.delivered.length / cu.seconds),
        },
        latencyMs: { ...pages.latencies, 'catch-up page of 500': cu.pageLatency.percentiles() },
        zeroLoss,
        targets: [
          { what: '50-item sync p99', target: '≤ 10 ms', measured: `${p50.p99} ms`, met: ctx.quick ? null : p50.p99 <= 10 },
          { what: 'catch-up after 100,000 messages offline', target: '(no target set; reported)', measured: `${round(cu.seconds, 2)} s for ${cu.delivered.length}`, met: null },
        ],
        chart: { kind: 'timeseries', title: 'delta pull latency by page size', series: pages.series },
        details: { catchUp: { messages: cu.sent.acks.length, pages: cu.pages, seconds: round(cu.seconds, 3), sendSeconds: round(cu.sendSeconds, 1), sendRate: round(cu.sent.acks.length / cu.sendSeconds) } },
        notes: ['The catch-up waits for the projections to hold every message (unread total) before the device comes back, so it times the pull, not the projection lag.'],
      };
    } finally {
      await pool.stop();
    }
  },
};
