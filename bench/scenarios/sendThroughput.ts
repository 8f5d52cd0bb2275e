// send-throughput: the highest sustained send rate with zero loss. Many senders over REST, in 1:1
// conversations (60% of the senders' conversations) and small groups of 3-8, closed loop: each of N
// in-flight loops sends as soon as its previous send was answered. N steps up (--steps, default
// 32,128,256 in flight) for --seconds each (15); a step's rate is counted after its first 2 s (warm-up).
// Flags: --users (600), --workers (2).
import { checkZeroLoss } from '../lib/loss.js';
import { shares, startLoadPool } from '../lib/loadPool.js';
import { LatencyRecorder, percentilesMs, newHistogram } from '../lib/stats.js';
import { numberFlag, round, type Scenario } from '../lib/scenario.js';
import { createGroup, inParallel, makeUsers, openDirect, waitMember, type User } from '../lib/world.js';
import type { Ack, SendReport, SenderSpec } from '../load/protocol.js';
import { wallMs } from '../load/clock.js';

const WARMUP_MS = 2_000;

export const sendThroughputScenario: Scenario = {
  name: 'send-throughput',
  async run(ctx) {
    const seconds = numberFlag(ctx, 'seconds', 15, 3);
    const userCount = numberFlag(ctx, 'users', 600, 40);
    const workers = numberFlag(ctx, 'workers', 2, 1);
    const steps = (ctx.flags.steps ?? (ctx.quick ? '8' : '32,128,256')).split(',').map(Number);
    if (steps.some((s) => !(s > 0))) throw new Error('--steps is a comma list of positive in-flight counts');
    const urls = ctx.target.urls;
    const users = await makeUsers(ctx.target, 'tu', userCount);

    // Directs between neighbours for 60% of the users, groups of 3-8 for the rest.
    const directUsers = users.slice(0, Math.floor(userCount * 0.6) & ~1);
    const groupUsers = users.slice(directUsers.length);
    const membersOf = new Map<string, User[]>();
    const directPairs = Array.from({ length: directUsers.length / 2 }, (_, i) => [directUsers[2 * i]!, directUsers[2 * i + 1]!] as const);
    await inParallel(directPairs, 16, async ([a, b]) => membersOf.set(await openDirect(ctx.client, a, b), [a, b]));
    const groups: User[][] = [];
    for (let i = 0; i < groupUsers.length; ) {
      const size = Math.min(3 + (i % 6), groupUsers.length - i);
      if (size < 3) break;
      groups.push(groupUsers.slice(i, i + size));
      i += size;
    }
    await inParallel(groups, 8, async (members) => {
      const id = await createGroup(ctx.client, members[0]!, members);
      membersOf.set(id, members);
      await waitMember(ctx.client, members[members.length - 1]!, id);
    });
    const senders: SenderSpec[] = [];
    let n = 0;
    for (const [conversationId, members] of membersOf) for (const m of members) senders.push({ userId: m.userId, token: m.token, conversationId, url: urls[n++ % urls.length]! });
    ctx.log(`${membersOf.size} conversations (${directPairs.length} direct, ${groups.length} groups), ${senders.length} senders; steps ${steps.join(',')} in flight × ${seconds} s`);

    const pool = startLoadPool(workers, urls, 512);
    const started = wallMs();
    const ackLatency = new LatencyRecorder(started);
    const allAcks: Ack[] = [];
    let failed = 0;
    const statuses: Record<string, number> = {};
    const stepResults: Array<Record<string, unknown>> = [];
    try {
      const senderShares = shares(senders, workers);
      for (const inFlight of steps) {
        const stepStart = wallMs();
        // Quick runs are shorter than the warm-up: keep at least three quarters of the step measured.
        const warmupMs = Math.min(WARMUP_MS, (seconds * 1000) / 4);
        const reports = await pool.all<SendReport>((w) => ({ cmd: 'sendClosed', senders: senderShares[w]!, concurrency: Math.max(1, Math.round(inFlight / workers)), durationMs: seconds * 1000, tag: `t${inFlight}` }));
        const stepHist = newHistogram();
        let counted = 0;
        for (const r of reports) {
          failed += r.failed.length;
          for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
          for (const a of r.acks) {
            allAcks.push(a);
            ackLatency.record(a.doneAt, a.doneAt - a.sentAt);
            if (a.doneAt - stepStart >= warmupMs) {
              counted++;
              stepHist.recordValue(Math.max(1, Math.round((a.doneAt - a.sentAt) * 1000)));
            }
          }
        }
        const rate = counted / ((seconds * 1000 - warmupMs) / 1000);
        const failures = reports.reduce((k, r) => k + r.failed.length, 0);
        stepResults.push({ inFlight, sendsPerSecond: round(rate), latencyMs: percentilesMs(stepHist), failures });
        ctx.log(`${inFlight} in flight: ${round(rate)} sends/s, p99 ${percentilesMs(stepHist).p99} ms, ${failures} failures`);
      }
    } finally {
      await pool.stop();
    }
    const zeroLoss = await checkZeroLoss({ client: ctx.client, acks: allAcks, failed, readerOf: (c) => membersOf.get(c)![0]!.token });
    const clean = stepResults.filter((s) => s.failures === 0);
    const best = [...(clean.length ? clean : stepResults)].sort((a, b) => (b.sendsPerSecond as number) - (a.sendsPerSecond as number))[0]!;
    const bestRate = best.sendsPerSecond as number;
    return {
      title: 'highest sustained sends/s (REST, 1:1 and small groups, closed loop)',
      params: { seconds, users: userCount, workers, steps, warmupSeconds: WARMUP_MS / 1000, conversations: membersOf.size, directConversations: directPairs.length, groups: groups.length, senders: senders.length },
      headline: {
        'highest sustained (sends/s)': bestRate,
        'at in-flight': best.inFlight as number,
        'ack latency there p50 / p99 (ms)': `${(best.latencyMs as { p50: number }).p50} / ${(best.latencyMs as { p99: number }).p99}`,
        'sends given up': failed,
      },
      latencyMs: Object.fromEntries(stepResults.map((s) => [`send ack, ${s.inFlight} in flight`, s.latencyMs as ReturnType<typeof percentilesMs>])),
      zeroLoss,
      targets: [{ what: 'sustained sends/s with zero loss', target: '≥ 5,000', measured: `${bestRate}/s`, met: ctx.quick ? null : zeroLoss.ok && bestRate >= 5_000 }],
      chart: { kind: 'timeseries', title: `send acknowledgement latency and sends/s (steps ${steps.join(', ')} in flight)`, series: [{ name: 'send acknowledged', points: ackLatency.series() }] },
      details: { steps: stepResults, statuses },
      notes: ['A step counts as sustained when no send was given up in it (every send is retried with its clientMsgId on 429/5xx/network errors).'],
    };
  },
};
