// latency: send → hint delivered to an online recipient, and send → message visible to the recipient
// through sync, at a fixed (open-loop) send rate. Each pair is a direct conversation: the sender posts
// over REST, the recipient holds a WebSocket, pulls (`op: "sync"`) on every hint and notes when each
// message became visible. Flags: --rate (sends/s, default 1000), --seconds (30), --pairs (500),
// --workers (load processes, 2).
// Hint latency is "send → first hint the recipient got at or after the send": with a pair sending only
// every pairs/rate seconds (0.5 s by default), a hint is nearly always the one for that message.
import { poolStatus, settleDeliveries } from '../lib/deliveries.js';
import { checkZeroLoss } from '../lib/loss.js';
import { shares, startLoadPool } from '../lib/loadPool.js';
import { LatencyRecorder } from '../lib/stats.js';
import { numberFlag, round, type Scenario } from '../lib/scenario.js';
import { inParallel, makeUsers, openDirect } from '../lib/world.js';
import type { Ack, Delivered, SendReport } from '../load/protocol.js';
import { wallMs } from '../load/clock.js';

export const latencyScenario: Scenario = {
  name: 'latency',
  async run(ctx) {
    const rate = numberFlag(ctx, 'rate', 1_000, 100);
    const seconds = numberFlag(ctx, 'seconds', 30, 3);
    const pairs = numberFlag(ctx, 'pairs', 500, 20);
    const workers = numberFlag(ctx, 'workers', 2, 1);
    const urls = ctx.target.urls;
    ctx.log(`${pairs} pairs, ${rate} sends/s for ${seconds} s`);
    const senders = await makeUsers(ctx.target, 'ls', pairs);
    const recipients = await makeUsers(ctx.target, 'lr', pairs);
    const conversations = await inParallel(senders, 16, (s, i) => openDirect(ctx.client, s, recipients[i]!));
    const pool = startLoadPool(workers, urls);
    try {
      const deviceShares = shares(recipients.map((r, i) => ({ userId: r.userId, token: r.token, url: urls[i % urls.length]! })), workers);
      const connected = await pool.all<{ opened: number; failed: number; errors: string[] }>((w) => ({ cmd: 'connect', devices: deviceShares[w]!, pull: true, concurrency: 50 }));
      const failedConnects = connected.reduce((n, c) => n + c.failed, 0);
      if (failedConnects > 0) throw new Error(`could not connect ${failedConnects} recipients: ${connected.flatMap((c) => c.errors).join('; ')}`);
      await pool.all(() => ({ cmd: 'initialSync' }));
      const senderShares = shares(senders.map((s, i) => ({ userId: s.userId, token: s.token, conversationId: conversations[i]!, url: urls[i % urls.length]! })), workers);
      const started = wallMs();
      const reports = await pool.all<SendReport>((w) => ({ cmd: 'sendOpen', senders: senderShares[w]!, ratePerSecond: rate / workers, durationMs: seconds * 1000, maxInFlight: 2_000, tag: 'lat' }));
      const acks: Ack[] = reports.flatMap((r) => r.acks);
      const failed = reports.reduce((n, r) => n + r.failed.length, 0);
      const delivered: Delivered[] = [];
      const settled = await settleDeliveries(pool, delivered, acks.length);
      const status = await poolStatus(pool);

      const ackLatency = new LatencyRecorder(started);
      for (const a of acks) ackLatency.record(a.doneAt, a.doneAt - a.sentAt);
      const hint = new LatencyRecorder(started);
      const visible = new LatencyRecorder(started);
      let withoutHint = 0;
      for (const d of delivered) {
        if (d.hintAt === null) withoutHint++;
        else hint.record(d.hintAt, d.hintAt - d.sentAt);
        visible.record(d.visibleAt, d.visibleAt - d.sentAt);
      }
      const recipientOf = new Map(conversations.map((c, i) => [c, recipients[i]!]));
      const zeroLoss = await checkZeroLoss({
        client: ctx.client,
        acks,
        failed,
        readerOf: (c) => recipientOf.get(c)!.token,
        deliveries: { delivered, recipientsOf: (c) => [recipientOf.get(c)!.userId], senderOf: (a) => a.senderId },
      });
      const achieved = acks.length / seconds;
      const h = hint.percentiles();
      const v = visible.percentiles();
      const statuses = reports.reduce<Record<string, number>>((all, r) => {
        for (const [k, n] of Object.entries(r.statuses)) all[k] = (all[k] ?? 0) + n;
        return all;
      }, {});
      return {
        title: `send → hint and send → visible through sync at ${rate} sends/s`,
        params: { rate, seconds, pairs, workers, recipientPulls: 'op:sync over the WebSocket on every hint', senders: 'REST POST, open loop' },
        headline: {
          'offered rate (sends/s)': rate,
          'acknowledged (sends/s)': round(achieved),
          'send → hint p50 / p99 (ms)': `${h.p50} / ${h.p99}`,
          'send → visible p50 / p99 (ms)': `${v.p50} / ${v.p99}`,
          'send ack p50 / p99 (ms)': `${ackLatency.percentiles().p50} / ${ackLatency.percentiles().p99}`,
        },
        latencyMs: { 'send → hint': h, 'send → visible via sync': v, 'send acknowledged (REST)': ackLatency.percentiles() },
        zeroLoss,
        targets: [
          { what: 'send → hint p50 at 1,000 sends/s', target: '≤ 5 ms', measured: `${h.p50} ms at ${round(achieved)}/s`, met: rate >= 1_000 && achieved >= rate * 0.95 ? h.p50 <= 5 : null },
          { what: 'send → hint p99 at 1,000 sends/s', target: '≤ 25 ms', measured: `${h.p99} ms at ${round(achieved)}/s`, met: rate >= 1_000 && achieved >= rate * 0.95 ? h.p99 <= 25 : null },
        ],
        chart: {
          kind: 'timeseries',
          title: `latency at ${rate} sends/s (${pairs} pairs)`,
          series: [
            { name: 'send → hint', points: hint.series() },
            { name: 'send → visible via sync', points: visible.series() },
            { name: 'send acknowledged', points: ackLatency.series() },
          ],
        },
        details: { statuses, skippedBecauseTooManyInFlight: reports.reduce((n, r) => n + r.skipped, 0), deliveredWithoutHint: withoutHint, foundOnlyByAFinalPull: settled.foundByFinalPull, devices: status },
      };
    } finally {
      await pool.all(() => ({ cmd: 'closeAll' })).catch(() => {});
      await pool.stop();
    }
  },
};
