// connections: how many idle WebSocket connections one node holds, what each costs in server memory,
// and the hint latency while they are held. Sockets are opened in steps of --step (2,000) from several
// loopback source addresses (127.0.0.2, .3, ...: 20,000 each, past one address's ephemeral port
// range), by --workers load processes (default: one per 9,000 sockets, under each process's
// open-files limit); the server's resident memory (its /metrics) is read after every step. They are then
// held --hold-seconds (30: the server pings every 25 s, the clients answer, and each client also sends an
// application ping every --app-ping-ms, 25,000) while --probes pairs (20) send --probe-rate messages/s
// (50) and measure send → hint. --connections (20,000; 50,000 for the target) is capped, in embedded
// mode, by the open-files limit the service inherits (RLIMIT_NOFILE, 20,000 on our CI machine).
import { sleep, wallMs } from '../load/clock.js';
import type { Ack, Delivered, SendReport } from '../load/protocol.js';
import { poolStatus, settleDeliveries, sourceAddress } from '../lib/deliveries.js';
import { checkZeroLoss } from '../lib/loss.js';
import { shares, startLoadPool } from '../lib/loadPool.js';
import { openFilesSoftLimit } from '../lib/machine.js';
import { LatencyRecorder } from '../lib/stats.js';
import { numberFlag, round, type Scenario } from '../lib/scenario.js';
import { inParallel, makeUsers, openDirect } from '../lib/world.js';

const PER_WORKER = 9_000;
/** Descriptors the service needs besides sockets (PostgreSQL connections, files, the listener). */
const SERVICE_FD_RESERVE = 1_000;

export const connectionsScenario: Scenario = {
  name: 'connections',
  async run(ctx) {
    const requested = numberFlag(ctx, 'connections', 20_000, 200);
    const step = numberFlag(ctx, 'step', 2_000, 100);
    const holdSeconds = numberFlag(ctx, 'hold-seconds', 30, 2);
    const appPingMs = numberFlag(ctx, 'app-ping-ms', 25_000, 1_000);
    const probes = numberFlag(ctx, 'probes', 20, 4);
    const probeRate = numberFlag(ctx, 'probe-rate', 50, 20);
    const fdCap = ctx.target.mode === 'embedded' ? openFilesSoftLimit() - SERVICE_FD_RESERVE : Infinity;
    const wanted = Math.min(requested, fdCap);
    const workers = numberFlag(ctx, 'workers', Math.max(1, Math.ceil(wanted / PER_WORKER)), 1);
    const urls = ctx.target.urls;
    ctx.log(`target ${wanted} idle sockets${wanted < requested ? ` (asked ${requested}, capped by the open-files limit ${fdCap + SERVICE_FD_RESERVE})` : ''}, ${workers} load processes`);

    const probeSenders = await makeUsers(ctx.target, 'cps', probes);
    const probeRecipients = await makeUsers(ctx.target, 'cpr', probes);
    const probeConversations = await inParallel(probeSenders, 8, (s, i) => openDirect(ctx.client, s, probeRecipients[i]!));
    const idleUsers = await makeUsers(ctx.target, 'ci', wanted);
    const pool = startLoadPool(workers, urls);
    try {
      await pool.call(0, { cmd: 'connect', devices: probeRecipients.map((r, i) => ({ userId: r.userId, token: r.token, url: urls[i % urls.length]!, localAddress: '127.0.0.1' })), pull: true, concurrency: 20 });
      await pool.call(0, { cmd: 'initialSync' });
      await sleep(1_000);
      const baselineRss = await ctx.target.serverRssBytes();
      const ramp: Array<{ connections: number; serverRssMiB: number; seconds: number }> = [{ connections: 0, serverRssMiB: round(baselineRss / 2 ** 20), seconds: 0 }];
      const rampStart = wallMs();
      let held = 0;
      let stoppedBecause = `reached the target of ${wanted}`;
      for (let from = 0; from < wanted; from += step) {
        const batch = idleUsers.slice(from, Math.min(wanted, from + step)).map((u, i) => ({ userId: u.userId, token: u.token, url: urls[(from + i) % urls.length]!, localAddress: sourceAddress(from + i) }));
        const parts = shares(batch, workers);
        const results = await pool.all<{ opened: number; failed: number; errors: string[] }>((w) => (parts[w]!.length ? { cmd: 'connect', devices: parts[w]!, pull: false, concurrency: 100, appPingMs } : undefined));
        const opened = results.reduce((n, r) => n + r.opened, 0);
        const failed = results.reduce((n, r) => n + r.failed, 0);
        held += opened;
        ramp.push({ connections: held, serverRssMiB: round((await ctx.target.serverRssBytes()) / 2 ** 20), seconds: round((wallMs() - rampStart) / 1000) });
        ctx.log(`${held} sockets open, server RSS ${ramp[ramp.length - 1]!.serverRssMiB} MiB`);
        if (failed > batch.length * 0.01) {
          stoppedBecause = `a step had ${failed} of ${batch.length} connections refused or failed: ${results.flatMap((r) => r.errors).join('; ')}`;
          break;
        }
      }
      const rampSeconds = (wallMs() - rampStart) / 1000;
      const afterRampRss = await ctx.target.serverRssBytes();

      // Hold them, and measure hints meanwhile.
      const probeStart = wallMs();
      const probeSeconds = Math.max(1, holdSeconds - 1);
      const holdEnd = probeStart + holdSeconds * 1000;
      const report = await pool.call<SendReport>(0, {
        cmd: 'sendOpen',
        senders: probeSenders.map((s, i) => ({ userId: s.userId, token: s.token, conversationId: probeConversations[i]!, url: urls[i % urls.length]! })),
        ratePerSecond: probeRate,
        durationMs: probeSeconds * 1000,
        maxInFlight: 500,
        tag: 'probe',
      });
      const acks: Ack[] = report.acks;
      const delivered: Delivered[] = [];
      const settled = await settleDeliveries(pool, delivered, acks.length, 60_000);
      if (wallMs() < holdEnd) await sleep(holdEnd - wallMs());
      const status = await poolStatus(pool);
      const afterHoldRss = await ctx.target.serverRssBytes();
      const hint = new LatencyRecorder(probeStart);
      const visible = new LatencyRecorder(probeStart);
      for (const d of delivered) {
        if (d.hintAt !== null) hint.record(d.hintAt, d.hintAt - d.sentAt);
        visible.record(d.visibleAt, d.visibleAt - d.sentAt);
      }
      const recipientOf = new Map(probeConversations.map((c, i) => [c, probeRecipients[i]!]));
      const zeroLoss = await checkZeroLoss({
        client: ctx.client,
        acks,
        failed: report.failed.length,
        readerOf: (c) => recipientOf.get(c)!.token,
        deliveries: { delivered, recipientsOf: (c) => [recipientOf.get(c)!.userId], senderOf: (a) => a.senderId },
      });
      // An idle socket dropped by the server while held is lost service too.
      zeroLoss.details.socketsClosedUnexpectedly = status.unexpectedCloses;
      zeroLoss.ok &&= status.unexpectedCloses === 0;
      zeroLoss.checked += ' Also: no held socket was closed by the server.';
      const bytesPerConnection = held > 0 ? (afterRampRss - baselineRss) / held : 0;
      const kb = round(bytesPerConnection / 1024, 2);
      const h = hint.percentiles();
      return {
        title: `idle WebSocket connections held by one node (${held})`,
        params: { requested, target: wanted, step, holdSeconds, appPingMs, probes, probeRate, workers, sourceAddresses: [...new Set(Array.from({ length: Math.ceil(wanted / 20_000) }, (_, i) => sourceAddress(i * 20_000)))] },
        headline: {
          'sockets held': held,
          'server memory per socket (KiB)': kb,
          'server RSS baseline → held (MiB)': `${round(baselineRss / 2 ** 20)} → ${round(afterRampRss / 2 ** 20)}`,
          'connect rate (sockets/s)': round(held / rampSeconds),
          'send → hint while held p50 / p99 (ms)': `${h.p50} / ${h.p99}`,
          'closed by the server while held': status.unexpectedCloses,
        },
        latencyMs: { 'send → hint while held': h, 'send → visible while held': visible.percentiles() },
        zeroLoss,
        targets: [
          { what: 'idle connections on one node', target: '50,000', measured: `${held} (${stoppedBecause})`, met: held >= 50_000 ? true : requested >= 50_000 ? false : null },
          { what: 'server memory per idle connection', target: '≤ 10 KB', measured: `${kb} KiB`, met: held >= 1_000 ? bytesPerConnection <= 10_000 : null },
        ],
        chart: { kind: 'bars', title: 'server resident memory while opening idle sockets', unit: 'MiB', bars: ramp.map((r) => ({ label: `${r.connections} sockets`, value: r.serverRssMiB })) },
        details: { foundOnlyByAFinalPull: settled.foundByFinalPull, ramp, stoppedBecause, afterHoldRssMiB: round(afterHoldRss / 2 ** 20), clientStatus: status, probeStatuses: report.statuses },
        notes: [
          'Memory per socket = (server RSS after the ramp − RSS before it) / sockets: it includes the kernel-independent user-space cost (ws objects, buffers, registry, presence), not the kernel socket buffers.',
          `Stopped: ${stoppedBecause}.`,
        ],
      };
    } finally {
      await pool.all(() => ({ cmd: 'closeAll' })).catch(() => {});
      await pool.stop();
    }
  },
};
