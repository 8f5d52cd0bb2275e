// Projection lag under a steady send rate (target: p99 under 100 ms at 2,000 sends/s).
// Run: npx tsx bench/lag.ts [rate=2000] [seconds=20] [pools=shared|separate]
//
// The projection runner follows the log while sends go through the command handler into many
// conversations (direct chats and groups of 5-50 among 2,000 users) on an open-loop schedule: every
// 10 ms the sends due by then are issued without waiting for earlier ones, so a slow store shows up
// as a backlog, not as a lower offered rate. A send's lag in a projection is the time from its
// append's acknowledgement (sendMessage resolved) to the runner's onApplied for the batch holding
// it. The first WARMUP_SECONDS are sent but not measured. Prints a JSON summary on stdout.
// Beside the projections, a watcher with nothing to apply polls the log every few ms on its own
// connection: its "lag" (`visibleInLog`) is when an event became readable at all, i.e. below the
// store's fence of the oldest open transaction, which every projection waits for too.
//
// pools=shared (default): writer and projector share one pool and one store, as in one `missive serve`
// process; the projector then queues for connections behind the appends. pools=separate: the
// projector has its own pool and store (woken by LISTEN/NOTIFY), as a `--role projector` node would.
// benchProcess.cpuMsPerSend: CPU of this process and of its PostgreSQL from the window start until all
// is applied, per measured send: it moves much less than lag with the machine's other load.
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import type * as hdr from 'hdr-histogram-js';
import { createCommandHandler } from '../src/app/commandHandler.js';
import type { CommandService } from '../src/app/commandService.js';
import { DEFAULT_LIMITS } from '../src/domain/limits.js';
import { conversationStreamId } from '../src/domain/streams.js';
import { ALL_PROJECTIONS, createProjectionRunner, type ProjectionRunner } from '../src/projections/index.js';
import type { EventStore, RecordedEvent } from '../src/store/eventStore.js';
import { createPostgresEventStore } from '../src/store/postgres/postgresEventStore.js';
import { machine, microsSince, postgresCpuMs, newHistogram, percentilesMs, startBenchPostgres } from './support.js';

const rate = Number(process.argv[2] ?? 2_000);
const seconds = Number(process.argv[3] ?? 20);
const pools = process.argv[4] ?? 'shared';
if (!(rate > 0) || !(seconds > 0) || !['shared', 'separate'].includes(pools)) throw new Error('usage: lag.ts [rate>0] [seconds>0] [shared|separate]');

const USERS = 2_000;
const DIRECT_CHATS = 1_500;
const GROUPS = 150;
const GROUP_SIZE = { min: 5, max: 50 };
/** Share of the sends that go to direct chats. */
const DIRECT_SHARE = 0.6;
const TICK_MS = 10;
const WARMUP_SECONDS = 2;
const DRAIN_TIMEOUT_MS = 60_000;
const POOL_SIZE = 16;
const VISIBILITY_POLL_MS = 2;
const VISIBLE_IN_LOG = 'visibleInLog';
/** The projector's own pool with pools=separate: one connection per projection loop, a few spare. */
const PROJECTOR_POOL_SIZE = 8;
const FANOUT_LIMIT = 500;

const random = Math.random;
const pickOne = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const userIds = Array.from({ length: USERS }, (_, i) => `u${String(i).padStart(4, '0')}`);

interface Conversation {
  conversationId: string;
  members: string[];
}

function distinctUsers(count: number): string[] {
  const chosen = new Set<string>();
  while (chosen.size < count) chosen.add(pickOne(userIds));
  return [...chosen];
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
async function inParallel<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]!);
      }
    }),
  );
  return results;
}

// ---------------------------------------------------------------- lag bookkeeping

interface SendRecord {
  ackAt: bigint;
  measured: boolean;
}

/** Matches acknowledgements with applications (either may come first) and records the lag of each. */
function createLagRecorder(projections: readonly string[]) {
  const sends = new Map<string, SendRecord>();
  const appliedEarly = new Map(projections.map((p) => [p, new Map<string, bigint>()]));
  const histograms = new Map<string, hdr.Histogram>(projections.map((p) => [p, newHistogram()]));
  const appliedMeasured = new Map(projections.map((p) => [p, 0]));
  /** Sends whose application was seen before their acknowledgement reached this process (lag recorded as 0). */
  const appliedBeforeAck = new Map(projections.map((p) => [p, 0]));

  const record = (projection: string, send: SendRecord, appliedAt: bigint) => {
    if (!send.measured) return;
    const micros = Number(appliedAt - send.ackAt) / 1000;
    if (micros <= 0) appliedBeforeAck.set(projection, appliedBeforeAck.get(projection)! + 1);
    histograms.get(projection)!.recordValue(Math.max(1, micros));
    appliedMeasured.set(projection, appliedMeasured.get(projection)! + 1);
  };

  return {
    acknowledged(key: string, measured: boolean) {
      const send = { ackAt: process.hrtime.bigint(), measured };
      sends.set(key, send);
      for (const [projection, early] of appliedEarly) {
        const appliedAt = early.get(key);
        if (appliedAt === undefined) continue;
        early.delete(key);
        record(projection, send, appliedAt);
      }
    },
    applied(projection: string, events: readonly RecordedEvent[]) {
      const appliedAt = process.hrtime.bigint();
      for (const event of events) {
        if (event.type !== 'MessageSent') continue;
        const key = `${event.streamId}#${event.streamPosition}`;
        const send = sends.get(key);
        if (send) record(projection, send, appliedAt);
        else appliedEarly.get(projection)?.set(key, appliedAt);
      }
    },
    appliedMeasured: (projection: string) => appliedMeasured.get(projection)!,
    summary: () => ({
      lagMs: Object.fromEntries([...histograms].map(([p, h]) => [p, percentilesMs(h)])),
      appliedBeforeAck: Object.fromEntries(appliedBeforeAck),
    }),
  };
}

/** Reads the log as a projector would, with no work to do: reports when events become readable. */
async function watchVisibility(store: EventStore, from: bigint, onEvents: (events: readonly RecordedEvent[]) => void, signal: AbortSignal): Promise<void> {
  let after = from;
  while (!signal.aborted) {
    const page = await store.readAll({ after, maxCount: 5_000 });
    if (page.events.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, VISIBILITY_POLL_MS));
      continue;
    }
    onEvents(page.events);
    after = page.lastPosition;
  }
}

// ---------------------------------------------------------------- the run

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

/** The direct chats and groups the sends go to, opened through the command handler. */
async function openConversations(handler: CommandService): Promise<{ directs: Conversation[]; groups: Conversation[] }> {
  const pairs = new Map<string, string[]>();
  while (pairs.size < DIRECT_CHATS) {
    const pair = distinctUsers(2);
    pairs.set([...pair].sort().join(':'), pair);
  }
  const directs = await inParallel([...pairs.values()], 32, async ([a, b]) => ({
    conversationId: (await handler.openDirect({ actorId: a! }, b!)).conversationId,
    members: [a!, b!],
  }));
  const groupMembers = Array.from({ length: GROUPS }, () => distinctUsers(GROUP_SIZE.min + Math.floor(random() * (GROUP_SIZE.max - GROUP_SIZE.min + 1))));
  const groups = await inParallel(groupMembers, 32, async (members) => ({
    conversationId: (await handler.createGroup({ actorId: members[0]! }, { name: `lag group ${members[0]}`, memberIds: members.slice(1) })).conversationId,
    members,
  }));
  return { directs, groups };
}

async function caughtUp(runner: ProjectionRunner): Promise<boolean> {
  return (await runner.status()).every((s) => s.lagEvents === 0);
}

async function main(): Promise<void> {
  const loadAtStart = os.loadavg();
  const postgres = await startBenchPostgres();
  const pool = new pg.Pool({ connectionString: postgres.connectionString, max: POOL_SIZE });
  pool.on('error', () => {});
  const store = createPostgresEventStore({ pool });
  const projectorPool = pools === 'shared' ? pool : new pg.Pool({ connectionString: postgres.connectionString, max: PROJECTOR_POOL_SIZE });
  projectorPool.on('error', () => {});
  const projectorStore = pools === 'shared' ? store : createPostgresEventStore({ pool: projectorPool });
  const handler = createCommandHandler({ store, limits: DEFAULT_LIMITS });
  const projections = ALL_PROJECTIONS.map((p) => p.name);
  const lag = createLagRecorder([...projections, VISIBLE_IN_LOG]);
  const watcherPool = new pg.Pool({ connectionString: postgres.connectionString, max: 1 });
  watcherPool.on('error', () => {});
  const watcherStore = createPostgresEventStore({ pool: watcherPool, notify: false });
  const stopWatching = new AbortController();
  let watching: Promise<void> = Promise.resolve();
  const runner = createProjectionRunner({ pool: projectorPool, store: projectorStore, fanoutLimit: FANOUT_LIMIT, onApplied: (name, events) => lag.applied(name, events) });

  try {
    const { directs, groups } = await openConversations(handler);
    await runner.start();
    if (!(await waitUntil(() => caughtUp(runner), DRAIN_TIMEOUT_MS))) throw new Error('the runner did not catch up with the setup events');
    watching = watchVisibility(watcherStore, await watcherStore.headPosition(), (events) => lag.applied(VISIBLE_IN_LOG, events), stopWatching.signal);

    const sendLatency = newHistogram();
    const errors = new Map<string, number>();
    let issued = 0;
    let acked = 0;
    let ackedInWindow = 0;
    let measuredSends = 0;
    let measuredOk = 0;
    let maxOutstanding = 0;
    const totalSeconds = WARMUP_SECONDS + seconds;
    const warmupEndsAt = process.hrtime.bigint() + BigInt(WARMUP_SECONDS * 1e9);
    const started = process.hrtime.bigint();
    let windowEndsAt = 0n;

    const sendOne = (n: number) => {
      const conversation = pickOne(random() < DIRECT_SHARE ? directs : groups);
      const actorId = pickOne(conversation.members);
      const issuedAt = process.hrtime.bigint();
      const measured = issuedAt >= warmupEndsAt;
      if (measured) measuredSends += 1;
      handler
        .sendMessage({ actorId }, conversation.conversationId, { clientMsgId: `lag-${n}`, kind: 'text', body: { text: `lag probe ${n}` } })
        .then(
          (result) => {
            lag.acknowledged(`${conversationStreamId(conversation.conversationId)}#${result.seq - 1}`, measured);
            if (measured) {
              measuredOk += 1;
              sendLatency.recordValue(Math.max(1, microsSince(issuedAt)));
            }
            const now = process.hrtime.bigint();
            if (now >= warmupEndsAt && (windowEndsAt === 0n || now <= windowEndsAt)) ackedInWindow += 1;
          },
          (error: unknown) => {
            const code = (error as { code?: string }).code ?? (error as Error).message;
            errors.set(code, (errors.get(code) ?? 0) + 1);
          },
        )
        .finally(() => (acked += 1));
    };

    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    let cpuAtWindowStart: NodeJS.CpuUsage | undefined;
    let postgresCpuAtWindowStart: number | undefined;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsedS = microsSince(started) / 1e6;
        if (!cpuAtWindowStart && elapsedS >= WARMUP_SECONDS) {
          cpuAtWindowStart = process.cpuUsage();
          postgresCpuAtWindowStart = postgresCpuMs(postgres.dataDir);
          loopDelay.enable();
        }
        const due = Math.floor(Math.min(elapsedS, totalSeconds) * rate);
        while (issued < due) sendOne(issued++);
        maxOutstanding = Math.max(maxOutstanding, issued - acked);
        if (elapsedS >= totalSeconds) {
          clearInterval(timer);
          resolve();
        }
      }, TICK_MS);
    });
    windowEndsAt = process.hrtime.bigint();
    loopDelay.disable();
    const cpu = process.cpuUsage(cpuAtWindowStart);
    const windowS = Number(windowEndsAt - warmupEndsAt) / 1e9;
    const outstandingAtEnd = issued - acked;

    await waitUntil(() => acked === issued, DRAIN_TIMEOUT_MS);
    const drained = await waitUntil(() => projections.every((p) => lag.appliedMeasured(p) >= measuredOk), DRAIN_TIMEOUT_MS);
    // How long the projections needed after the last send to apply everything (0: they kept up).
    const drainSeconds = Math.round(microsSince(windowEndsAt) / 1e4) / 100;
    // CPU from the window's start until everything is applied (sends, appends and all four
    // projections), per measured send: a cost that does not depend on what else runs on the machine.
    const cpuThroughDrain = process.cpuUsage(cpuAtWindowStart);
    const postgresCpuAtEnd = postgresCpuMs(postgres.dataDir);
    const perSend = (ms: number) => Math.round((ms / Math.max(1, measuredSends)) * 1000) / 1000;
    const cpuMsPerSend =
      postgresCpuAtEnd !== undefined && postgresCpuAtWindowStart !== undefined
        ? {
            benchProcess: perSend((cpuThroughDrain.user + cpuThroughDrain.system) / 1000),
            postgres: perSend(postgresCpuAtEnd - postgresCpuAtWindowStart),
            of: 'window start → all applied (window + drain), divided by measured sends',
          }
        : undefined;
    const { lagMs, appliedBeforeAck } = lag.summary();
    const ackedPerSecond = Math.round(ackedInWindow / windowS);

    console.log(
      JSON.stringify(
        {
          benchmark: 'projection lag',
          store: 'postgres (embedded), notify on',
          setup: { users: USERS, directChats: DIRECT_CHATS, groups: GROUPS, groupSize: GROUP_SIZE, directShareOfSends: DIRECT_SHARE, pools, poolSize: POOL_SIZE, projectorPoolSize: pools === 'shared' ? 'shared' : PROJECTOR_POOL_SIZE, fanoutLimit: FANOUT_LIMIT },
          schedule: { targetSendsPerSecond: rate, tickMs: TICK_MS, warmupSeconds: WARMUP_SECONDS, measuredSeconds: Math.round(windowS * 100) / 100 },
          sends: {
            measured: measuredSends,
            offeredPerSecond: Math.round(measuredSends / windowS),
            acknowledgedPerSecond: ackedPerSecond,
            maxOutstanding,
            outstandingAtEnd,
            errors: Object.fromEntries(errors),
            latencyMs: percentilesMs(sendLatency),
          },
          sustained: ackedPerSecond >= 0.95 * rate && outstandingAtEnd < rate / 2 && errors.size === 0,
          lagOf: 'append acknowledged (sendMessage resolved) → onApplied of the batch holding the event, per projection; visibleInLog: → first readable by readAll',
          lagMs,
          appliedBeforeAck,
          allAppliedWithinDrainTimeout: drained,
          drainSecondsAfterLastSend: drainSeconds,
          target: { lagP99Ms: 100, metBy: Object.fromEntries(Object.entries(lagMs).filter(([p]) => p !== VISIBLE_IN_LOG).map(([p, l]) => [p, l.p99 < 100])) },
          benchProcess: {
            cpuPercentOfOneCore: Math.round(((cpu.user + cpu.system) / 1e6 / windowS) * 100),
            cpuMsPerSend,
            eventLoopDelayMs: { p50: loopDelay.percentile(50) / 1e6, p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
          },
          loadAverage: { atStart: loadAtStart, atEnd: os.loadavg() },
          machine: machine(),
        },
        null,
        2,
      ),
    );
  } finally {
    stopWatching.abort();
    await watching.catch(() => undefined);
    await watcherStore.close();
    await watcherPool.end();
    await runner.stop();
    await store.close();
    await pool.end();
    if (pools === 'separate') {
      await projectorStore.close();
      await projectorPool.end();
    }
    await postgres.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
