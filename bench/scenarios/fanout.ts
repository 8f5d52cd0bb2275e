// fanout: one message to a group whose members are all online, measured to the LAST member: the time
// until the last member got its hint and until the last member had pulled the message (op: "sync" on
// the hint). Two groups: --write-members (500, at FANOUT_LIMIT: write fan-out, one inbox row each)
// and --read-members (10,000, above it: read fan-out). --messages (5) are sent one at a time by the
// owner, each after the previous one reached every member (or --timeout-ms, 45,000), so a hint is
// unambiguous. Quick runs use a FANOUT_LIMIT of 20 so a 40-member group is already read fan-out.
import { sleep, wallMs } from '../load/clock.js';
import type { Ack, Delivered } from '../load/protocol.js';
import { gatherDeliveries, poolStatus, settleDeliveries, sourceAddress } from '../lib/deliveries.js';
import { expectStatus } from '../lib/http.js';
import { checkZeroLoss } from '../lib/loss.js';
import { shares, startLoadPool, type LoadPool } from '../lib/loadPool.js';
import type { ZeroLoss } from '../lib/report.js';
import { LatencyRecorder, newHistogram, percentilesMs, type Percentiles } from '../lib/stats.js';
import { numberFlag, type Scenario, type ScenarioContext } from '../lib/scenario.js';
import { createGroup, makeUsers, waitMember, type User } from '../lib/world.js';

const QUICK_FANOUT_LIMIT = 20;

interface GroupRun {
  label: string;
  members: number;
  lastHinted: Percentiles;
  lastPulled: Percentiles;
  everyHint: Percentiles;
  everyPull: Percentiles;
  perMessage: Array<{ index: number; lastHintedMs: number | null; lastPulledMs: number | null; reached: number }>;
  zeroLoss: ZeroLoss;
  series: ReturnType<LatencyRecorder['series']>;
}

async function runGroup(ctx: ScenarioContext, pool: LoadPool, label: string, size: number, messages: number, timeoutMs: number): Promise<GroupRun> {
  const urls = ctx.target.urls;
  const members = await makeUsers(ctx.target, `f${size}m`, size);
  const owner = members[0]!;
  ctx.log(`${label}: creating a group of ${size}`);
  const conversationId = await createGroup(ctx.client, owner, members, `fanout ${size}`);
  await waitMember(ctx.client, members[members.length - 1]!, conversationId);
  const recipients = members.slice(1);
  const specs = recipients.map((m, i) => ({ userId: m.userId, token: m.token, url: urls[i % urls.length]!, localAddress: sourceAddress(i) }));
  const parts = shares(specs, pool.size);
  const connected = await pool.all<{ failed: number; errors: string[] }>((w) => ({ cmd: 'connect', devices: parts[w]!, pull: true, concurrency: 100 }));
  const failedConnects = connected.reduce((n, c) => n + c.failed, 0);
  if (failedConnects > 0) throw new Error(`${label}: ${failedConnects} members could not connect: ${connected.flatMap((c) => c.errors).join('; ')}`);
  await pool.all(() => ({ cmd: 'initialSync' }));
  await gatherDeliveries(pool, [], 0, 0);
  ctx.log(`${label}: ${recipients.length} members online, sending ${messages} messages`);

  const started = wallMs();
  const everyHint = new LatencyRecorder(started);
  const everyPull = new LatencyRecorder(started);
  const lastHinted = newHistogram();
  const lastPulled = newHistogram();
  const perMessage: GroupRun['perMessage'] = [];
  const acks: Ack[] = [];
  const delivered: Delivered[] = [];
  for (let index = 0; index < messages; index++) {
    const sentAt = wallMs();
    const clientMsgId = `fan-${size}-${index}`;
    const ack = await expectStatus(
      ctx.client.request<{ messageId: string; seq: number }>('POST', `/v1/conversations/${conversationId}/messages`, owner.token, { clientMsgId, kind: 'text', body: { text: `to all ${index}`, t0: sentAt, i: index } }),
      [201],
      'fanout send',
    );
    acks.push({ senderId: owner.userId, conversationId, clientMsgId, messageId: ack.messageId, seq: ack.seq, sentAt, doneAt: wallMs(), status: 201, attempts: 1 });
    const before = delivered.length;
    await gatherDeliveries(pool, delivered, before + recipients.length, timeoutMs, 20);
    const mine = delivered.slice(before).filter((d) => d.index === index);
    let lastH = 0;
    let lastP = 0;
    for (const d of mine) {
      if (d.hintAt !== null) {
        everyHint.record(d.hintAt, d.hintAt - d.sentAt);
        lastH = Math.max(lastH, d.hintAt - d.sentAt);
      }
      everyPull.record(d.visibleAt, d.visibleAt - d.sentAt);
      lastP = Math.max(lastP, d.visibleAt - d.sentAt);
    }
    const complete = mine.length === recipients.length && mine.every((d) => d.hintAt !== null);
    if (complete) {
      lastHinted.recordValue(Math.max(1, Math.round(lastH * 1000)));
      lastPulled.recordValue(Math.max(1, Math.round(lastP * 1000)));
    }
    perMessage.push({ index, lastHintedMs: complete ? Math.round(lastH * 10) / 10 : null, lastPulledMs: complete ? Math.round(lastP * 10) / 10 : null, reached: mine.length });
    await sleep(100);
  }
  // Late deliveries of a message that timed out count for zero loss, not for its latency.
  const settled = await settleDeliveries(pool, delivered, acks.length * recipients.length, timeoutMs);
  const status = await poolStatus(pool);
  const zeroLoss = await checkZeroLoss({
    client: ctx.client,
    acks,
    failed: 0,
    readerOf: () => owner.token,
    deliveries: { delivered, recipientsOf: () => recipients.map((r) => r.userId), senderOf: (a) => a.senderId },
  });
  zeroLoss.details.devices = status;
  zeroLoss.details.foundOnlyByAFinalPull = settled.foundByFinalPull;
  await pool.all(() => ({ cmd: 'closeAll' }));
  return {
    label,
    members: size,
    lastHinted: percentilesMs(lastHinted),
    lastPulled: percentilesMs(lastPulled),
    everyHint: everyHint.percentiles(),
    everyPull: everyPull.percentiles(),
    perMessage,
    zeroLoss,
    series: everyHint.series(),
  };
}

export const fanoutScenario: Scenario = {
  name: 'fanout',
  serviceEnv(quick, flags): Record<string, string> {
    const limit = flags['fanout-limit'] ?? (quick ? String(QUICK_FANOUT_LIMIT) : undefined);
    return limit ? { FANOUT_LIMIT: limit } : {};
  },
  async run(ctx) {
    const writeMembers = numberFlag(ctx, 'write-members', 500, QUICK_FANOUT_LIMIT / 2);
    const readMembers = numberFlag(ctx, 'read-members', 10_000, QUICK_FANOUT_LIMIT * 2);
    const messages = numberFlag(ctx, 'messages', 5, 3);
    const timeoutMs = numberFlag(ctx, 'timeout-ms', 45_000, 15_000);
    const workers = numberFlag(ctx, 'workers', 2, 1);
    const fanoutLimit = Number(ctx.flags['fanout-limit'] ?? (ctx.quick ? QUICK_FANOUT_LIMIT : 500));
    const pool = startLoadPool(workers, ctx.target.urls);
    const runs: GroupRun[] = [];
    try {
      runs.push(await runGroup(ctx, pool, `write fan-out (${writeMembers} members)`, writeMembers, messages, timeoutMs));
      runs.push(await runGroup(ctx, pool, `read fan-out (${readMembers} members)`, readMembers, messages, timeoutMs));
    } finally {
      await pool.stop();
    }
    const [w, r] = runs as [GroupRun, GroupRun];
    const full = (run: GroupRun, size: number) => run.members >= size && run.members > 0;
    return {
      title: `one message to ${writeMembers} (write fan-out) and ${readMembers} (read fan-out) online members`,
      params: { writeMembers, readMembers, messages, timeoutMs, workers, fanoutLimit, pull: 'op:sync over the WebSocket on every hint' },
      headline: {
        [`last of ${writeMembers} hinted p50 / p99 (ms)`]: `${w.lastHinted.p50} / ${w.lastHinted.p99}`,
        [`last of ${writeMembers} pulled p50 / p99 (ms)`]: `${w.lastPulled.p50} / ${w.lastPulled.p99}`,
        [`last of ${readMembers} hinted p50 / p99 (ms)`]: `${r.lastHinted.p50} / ${r.lastHinted.p99}`,
        [`last of ${readMembers} pulled p50 / p99 (ms)`]: `${r.lastPulled.p50} / ${r.lastPulled.p99}`,
      },
      latencyMs: {
        [`last of ${writeMembers} hinted (per message)`]: w.lastHinted,
        [`last of ${writeMembers} pulled (per message)`]: w.lastPulled,
        [`every member of ${writeMembers} hinted`]: w.everyHint,
        [`every member of ${writeMembers} pulled`]: w.everyPull,
        [`last of ${readMembers} hinted (per message)`]: r.lastHinted,
        [`last of ${readMembers} pulled (per message)`]: r.lastPulled,
        [`every member of ${readMembers} hinted`]: r.everyHint,
        [`every member of ${readMembers} pulled`]: r.everyPull,
      },
      zeroLoss: {
        ok: w.zeroLoss.ok && r.zeroLoss.ok,
        checked: w.zeroLoss.checked,
        details: { [w.label]: w.zeroLoss.details, [r.label]: r.zeroLoss.details },
      },
      targets: [
        { what: 'last of 500 members hinted, p99', target: '≤ 100 ms', measured: `${w.lastHinted.p99} ms (${w.members} members)`, met: full(w, 500) ? w.lastHinted.p99 <= 100 : null },
        { what: 'last of 10,000 members hinted', target: '≤ 500 ms', measured: `${r.lastHinted.p99} ms p99 (${r.members} members)`, met: full(r, 10_000) ? r.lastHinted.p99 <= 500 : null },
      ],
      chart: {
        kind: 'bars',
        title: 'time until the LAST member was hinted / had pulled (p50 and p99 over messages)',
        unit: 'ms',
        bars: runs.flatMap((run) => [
          { label: `${run.members}: last hinted p50`, value: run.lastHinted.p50 },
          { label: `${run.members}: last hinted p99`, value: run.lastHinted.p99 },
          { label: `${run.members}: last pulled p50`, value: run.lastPulled.p50 },
          { label: `${run.members}: last pulled p99`, value: run.lastPulled.p99 },
        ]),
      },
      details: { perMessage: Object.fromEntries(runs.map((run) => [run.label, run.perMessage])) },
      notes: [
        `Groups above FANOUT_LIMIT (${fanoutLimit} in this run) are read fan-out: no inbox row per member, each member's sync reads the group's timeline.`,
        'A message that did not reach every member within the timeout is left out of the "last member" percentiles and shows with lastHintedMs null in details.perMessage (and fails zero loss if it never arrived).',
      ],
    };
  },
};
