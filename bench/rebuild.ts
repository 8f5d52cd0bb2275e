// Rebuild throughput of every projection over a large, realistic log (target: at least 20,000 events/s
// rebuilding from a 1,000,000-event log on 2 cores). Run: npx tsx bench/rebuild.ts [events=1000000]
//
// The log is written fast, not through HTTP: events are decided by the real domain deciders against
// in-memory states (so every event is one the service could have recorded) and appended in
// multi-event appends by several concurrent appenders. Direct chats among 2,000 users carry ~60% of
// the messages, groups of 5-50 members the rest; ~10% of the events are read marks, a few are edits,
// recalls and membership changes. Then each projection of ALL_PROJECTIONS is rebuilt in turn, as
// `missive projections rebuild` does, and timed. Prints a JSON summary on stdout, progress on stderr.
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import {
  decideConversation,
  evolveConversation,
  initialConversationState,
  type ConversationCommand,
  type ConversationState,
} from '../src/domain/conversation.js';
import { decideUser, evolveUser, initialUserState, type UserState } from '../src/domain/user.js';
import { directConversationId, messageSentEventId } from '../src/domain/ids.js';
import { DEFAULT_LIMITS } from '../src/domain/limits.js';
import { SCHEMA_VERSION, type DomainEvent } from '../src/domain/events.js';
import { conversationStreamId, userStreamId } from '../src/domain/streams.js';
import type { EventStore, NewEvent } from '../src/store/eventStore.js';
import { createPostgresEventStore } from '../src/store/postgres/postgresEventStore.js';
import { ALL_PROJECTIONS, ensureProjectionSchemas, rebuildProjection } from '../src/projections/index.js';
import { machine, microsSince, postgresCpuMs, startBenchPostgres } from './support.js';

const targetEvents = Number(process.argv[2] ?? 1_000_000);
/**
 * BENCH_ONLY=inbox,timeline rebuilds only those; BENCH_REPEAT=3 rebuilds each that often (same log);
 * BENCH_DATA_DIR=/tmp/x keeps the database there and reuses a log of the requested size found in it
 * (for iterating on rebuild code without writing the log again).
 */
const keepDataDir = process.env.BENCH_DATA_DIR || undefined;
const onlyProjections = process.env.BENCH_ONLY?.split(',').filter(Boolean);
const repeats = Math.max(1, Number(process.env.BENCH_REPEAT ?? 1));
if (!Number.isSafeInteger(targetEvents) || targetEvents < 10_000) throw new Error('events must be an integer >= 10000');

const USERS = 2_000;
const APPENDERS = 6;
const FANOUT_LIMIT = 500;
/** Share of the messages sent in direct chats (the rest go to groups). */
const DIRECT_MESSAGE_SHARE = 0.6;
const DIRECT_BURST = { min: 30, max: 80 };
const GROUP_BURST = { min: 50, max: 200 };
const GROUP_SIZE = { min: 5, max: 50 };
/** After a message, the chance that another member reads up to it (read marks ≈ 10% of the log). */
const READ_CHANCE = 0.115;
const EDIT_CHANCE = 0.015;
const RECALL_CHANCE = 0.005;
/** Per group event: a member joins or leaves (a group never shrinks below 3). */
const MEMBERSHIP_CHANGE_CHANCE = 0.003;
/** A user's read marks are appended together once this many are waiting. */
const MARKS_PER_APPEND = 10;
/** Simulated time: the log spans this many days ending now (several timeline month partitions). */
const SPAN_DAYS = 75;

/** mulberry32: a seeded generator, so two runs with the same size write the same shape of log. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = seededRandom(20_240_611);
const between = (range: { min: number; max: number }) => range.min + Math.floor(random() * (range.max - range.min + 1));
const pickOne = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const FILLER = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua '.repeat(2);

// ---------------------------------------------------------------- the world being simulated

interface SentRef {
  messageId: string;
  senderId: string;
}

interface ConversationSlot {
  conversationId: string;
  streamId: string;
  kind: 'direct' | 'group';
  /** Current members (mirrors state.members, as an array to pick from). */
  members: string[];
  state: ConversationState;
  /** Last stream position appended (-1: no stream yet). */
  version: number;
  /** Recent messages that may still be edited or recalled. */
  recent: SentRef[];
  busy: boolean;
}

interface UserSlot {
  userId: string;
  /** State including the marks decided but not yet appended. */
  state: UserState;
  version: number;
  pending: NewEvent[];
  busy: boolean;
}

const users: UserSlot[] = Array.from({ length: USERS }, (_, i) => ({
  userId: `u${String(i).padStart(4, '0')}`,
  state: initialUserState,
  version: -1,
  pending: [],
  busy: false,
}));
const userById = new Map(users.map((u) => [u.userId, u]));

function newConversationSlot(conversationId: string, kind: 'direct' | 'group', members: string[]): ConversationSlot {
  return { conversationId, streamId: conversationStreamId(conversationId), kind, members, state: initialConversationState, version: -1, recent: [], busy: false };
}

function distinctUsers(count: number): string[] {
  const chosen = new Set<string>();
  while (chosen.size < count) chosen.add(pickOne(users).userId);
  return [...chosen];
}

/** ~one direct chat per 100 events and one group per 1,000: each has several bursts over the run. */
function createWorld(events: number): { directs: ConversationSlot[]; groups: ConversationSlot[] } {
  const pairs = new Map<string, ConversationSlot>();
  const directCount = Math.round(events / 100);
  while (pairs.size < directCount) {
    const [a, b] = distinctUsers(2) as [string, string];
    const id = directConversationId(a, b);
    if (!pairs.has(id)) pairs.set(id, newConversationSlot(id, 'direct', [a, b]));
  }
  const groups = Array.from({ length: Math.round(events / 1_000) }, () => newConversationSlot(uuidv7(), 'group', distinctUsers(between(GROUP_SIZE))));
  return { directs: [...pairs.values()], groups };
}

// ---------------------------------------------------------------- deciding events

const composition = new Map<string, number>();
const conversationEventsByKind = { direct: 0, group: 0 };
/** Refusals by domain code: the generator means to issue valid commands only, so these should be rare. */
const rejected = new Map<string, number>();
const countRejection = (code: string) => rejected.set(code, (rejected.get(code) ?? 0) + 1);
let produced = 0;
let clientMsgCounter = 0;
const clockStart = Date.now() - SPAN_DAYS * 86_400_000;
const msPerEvent = (SPAN_DAYS * 86_400_000) / targetEvents;
/** Simulated wall clock: advances with the number of events decided, so time follows the log. */
const simulatedNow = () => Math.floor(clockStart + produced * msPerEvent);

const toNewEvent = (event: DomainEvent, actorId: string, eventId: string): NewEvent => ({
  eventId,
  type: event.type,
  data: event.data,
  metadata: { actorId, deviceId: 'bench-device', schemaVersion: SCHEMA_VERSION },
});

interface Burst {
  events: NewEvent[];
  /** Read marks to decide once the burst is stored: (reader, seq) pairs. */
  reads: Array<{ userId: string; seq: number }>;
}

/** Decides `command` on the slot's state and folds the result in; refused commands are counted. */
function decideInto(slot: ConversationSlot, burst: Burst, command: ConversationCommand, eventId?: string): DomainEvent[] {
  const decision = decideConversation(command, slot.state, DEFAULT_LIMITS);
  if (!decision.ok) {
    countRejection(decision.error.code);
    return [];
  }
  for (const event of decision.value) {
    const seq = slot.state.status === 'open' ? slot.state.lastSeq + 1 : 1;
    slot.state = evolveConversation(slot.state, event, seq, DEFAULT_LIMITS);
    burst.events.push(toNewEvent(event, command.actorId, event.type === 'MessageSent' && eventId ? eventId : randomUUID()));
    composition.set(event.type, (composition.get(event.type) ?? 0) + 1);
    conversationEventsByKind[slot.kind] += 1;
    produced += 1;
  }
  return decision.value;
}

function openCommand(slot: ConversationSlot, now: number): ConversationCommand {
  const [owner, ...others] = slot.members as [string, ...string[]];
  return slot.kind === 'direct'
    ? { type: 'OpenDirect', actorId: owner, now, conversationId: slot.conversationId, peerId: others[0]! }
    : { type: 'CreateGroup', actorId: owner, now, conversationId: slot.conversationId, name: `group ${slot.conversationId.slice(-6)}`, memberIds: others };
}

function sendCommand(slot: ConversationSlot, now: number): { command: ConversationCommand; eventId: string; ref: SentRef } {
  const senderId = pickOne(slot.members);
  const clientMsgId = `c${++clientMsgCounter}`;
  const messageId = uuidv7();
  const text = `message ${clientMsgCounter} ${FILLER.slice(0, 10 + Math.floor(random() * 150))}`;
  return {
    command: { type: 'SendMessage', actorId: senderId, now, messageId, clientMsgId, kind: 'text', body: { text } },
    eventId: messageSentEventId(senderId, clientMsgId),
    ref: { messageId, senderId },
  };
}

/** A group member joins (a user not in it) or leaves (anyone but the owner, who is members[0]). */
function membershipCommand(slot: ConversationSlot, now: number): ConversationCommand | undefined {
  const owner = slot.members[0]!;
  if (slot.members.length > 3 && random() < 0.5) {
    const leaver = slot.members[1 + Math.floor(random() * (slot.members.length - 1))]!;
    slot.members = slot.members.filter((m) => m !== leaver);
    return { type: 'LeaveGroup', actorId: leaver, now };
  }
  if (slot.members.length >= GROUP_SIZE.max) return undefined;
  const joiner = pickOne(users).userId;
  if (slot.members.includes(joiner)) return undefined;
  slot.members = [...slot.members, joiner];
  return { type: 'AddMembers', actorId: owner, now, userIds: [joiner] };
}

/** Edits or recalls one of the recent messages, by its sender. */
function changeCommand(slot: ConversationSlot, now: number, recall: boolean): ConversationCommand | undefined {
  if (slot.recent.length === 0) return undefined;
  const index = Math.floor(random() * slot.recent.length);
  const target = slot.recent[index]!;
  if (!slot.members.includes(target.senderId)) return undefined;
  if (!recall) return { type: 'EditMessage', actorId: target.senderId, now, messageId: target.messageId, body: { text: 'edited' } };
  slot.recent.splice(index, 1);
  return { type: 'RecallMessage', actorId: target.senderId, now, messageId: target.messageId };
}

/** One burst of a conversation's life: opens it first if needed, then mostly messages. */
function decideBurst(slot: ConversationSlot, size: number): Burst {
  const burst: Burst = { events: [], reads: [] };
  // Edits and recalls target this burst's messages: older ones may be outside the edit window.
  slot.recent = [];
  if (slot.state.status === 'empty') decideInto(slot, burst, openCommand(slot, simulatedNow()));
  while (burst.events.length < size) {
    const now = simulatedNow();
    const roll = random();
    let command: ConversationCommand | undefined;
    if (roll < EDIT_CHANCE) command = changeCommand(slot, now, false);
    else if (roll < EDIT_CHANCE + RECALL_CHANCE) command = changeCommand(slot, now, true);
    else if (slot.kind === 'group' && roll < EDIT_CHANCE + RECALL_CHANCE + MEMBERSHIP_CHANGE_CHANCE) command = membershipCommand(slot, now);
    if (command) {
      decideInto(slot, burst, command);
      continue;
    }
    const send = sendCommand(slot, now);
    if (decideInto(slot, burst, send.command, send.eventId).length === 0) continue;
    slot.recent.push(send.ref);
    if (slot.recent.length > 20) slot.recent.shift();
    if (random() < READ_CHANCE && slot.members.length > 1) {
      let reader = pickOne(slot.members);
      while (reader === send.ref.senderId) reader = pickOne(slot.members);
      burst.reads.push({ userId: reader, seq: slot.state.status === 'open' ? slot.state.lastSeq : 0 });
    }
  }
  return burst;
}

// ---------------------------------------------------------------- appending

const appendStats = { conversationAppends: 0, userAppends: 0 };

async function flushUser(store: EventStore, user: UserSlot): Promise<void> {
  if (user.busy || user.pending.length === 0) return;
  user.busy = true;
  const events = user.pending;
  user.pending = [];
  try {
    const result = await store.append(userStreamId(user.userId), events, user.version);
    user.version = result.nextExpectedRevision;
    appendStats.userAppends += 1;
  } finally {
    user.busy = false;
  }
}

/** Decides the burst's read marks (after its events are stored, so a mark never precedes its seq). */
async function recordReads(store: EventStore, slot: ConversationSlot, reads: Burst['reads']): Promise<void> {
  const ready = new Set<UserSlot>();
  for (const { userId, seq } of reads) {
    const user = userById.get(userId)!;
    const command = { type: 'MarkRead', userId, conversationId: slot.conversationId, seq, deviceId: 'bench-device', now: simulatedNow(), conversationLastSeq: seq, isMember: true } as const;
    const decision = decideUser(command, user.state);
    if (!decision.ok) {
      countRejection(decision.error.code);
      continue;
    }
    for (const event of decision.value) {
      user.state = evolveUser(user.state, event);
      user.pending.push(toNewEvent(event, userId, randomUUID()));
      composition.set(event.type, (composition.get(event.type) ?? 0) + 1);
      produced += 1;
    }
    if (user.pending.length >= MARKS_PER_APPEND) ready.add(user);
  }
  for (const user of ready) await flushUser(store, user);
}

/** Picks a conversation nobody is appending to, direct or group in proportion to their message share. */
function pickConversation(world: ReturnType<typeof createWorld>, directBurstChance: number): ConversationSlot {
  for (;;) {
    const slot = pickOne(random() < directBurstChance ? world.directs : world.groups);
    if (!slot.busy) return slot;
  }
}

async function writeLog(store: EventStore) {
  const world = createWorld(targetEvents);
  const meanDirect = (DIRECT_BURST.min + DIRECT_BURST.max) / 2;
  const meanGroup = (GROUP_BURST.min + GROUP_BURST.max) / 2;
  // Bursts chosen so that DIRECT_MESSAGE_SHARE of the events land in direct chats.
  const directBurstChance = DIRECT_MESSAGE_SHARE / meanDirect / (DIRECT_MESSAGE_SHARE / meanDirect + (1 - DIRECT_MESSAGE_SHARE) / meanGroup);
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  let lastReport = Date.now();

  const appender = async () => {
    while (produced < targetEvents) {
      const slot = pickConversation(world, directBurstChance);
      slot.busy = true;
      const burst = decideBurst(slot, Math.min(between(slot.kind === 'direct' ? DIRECT_BURST : GROUP_BURST), Math.max(1, targetEvents - produced)));
      try {
        const result = await store.append(slot.streamId, burst.events, slot.version);
        slot.version = result.nextExpectedRevision;
        appendStats.conversationAppends += 1;
      } finally {
        slot.busy = false;
      }
      await recordReads(store, slot, burst.reads);
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        process.stderr.write(`log: ${produced} events decided, ${Math.round(produced / (microsSince(started) / 1e6))} events/s\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: APPENDERS }, appender));
  for (const user of users) await flushUser(store, user);
  const seconds = microsSince(started) / 1e6;
  const cpu = process.cpuUsage(cpuBefore);

  const opened = (slots: ConversationSlot[]) => slots.filter((s) => s.version >= 0);
  const groupsUsed = opened(world.groups);
  const conversationEvents = conversationEventsByKind.direct + conversationEventsByKind.group;
  return {
    events: produced,
    seconds: Math.round(seconds * 10) / 10,
    eventsPerSecond: Math.round(produced / seconds),
    benchProcessCpuSeconds: Math.round((cpu.user + cpu.system) / 1e5) / 10,
    byType: Object.fromEntries([...composition].sort((a, b) => b[1] - a[1])),
    users: USERS,
    directConversations: opened(world.directs).length,
    groups: groupsUsed.length,
    meanGroupSizeAtEnd: Math.round((groupsUsed.reduce((sum, g) => sum + g.members.length, 0) / Math.max(1, groupsUsed.length)) * 10) / 10,
    directShareOfConversationEvents: Math.round((conversationEventsByKind.direct / conversationEvents) * 1000) / 1000,
    conversationAppends: appendStats.conversationAppends,
    meanEventsPerConversationAppend: Math.round(conversationEvents / appendStats.conversationAppends),
    userAppends: appendStats.userAppends,
    concurrentAppenders: APPENDERS,
    rejectedCommands: Object.fromEntries(rejected),
    simulatedSpanDays: SPAN_DAYS,
  };
}

// ---------------------------------------------------------------- rebuilding

async function main(): Promise<void> {
  const loadAtStart = os.loadavg();
  const postgres = await startBenchPostgres(keepDataDir);
  const pool = new pg.Pool({ connectionString: postgres.connectionString, max: APPENDERS + 4 });
  pool.on('error', () => {});
  const store = createPostgresEventStore({ pool, notify: false });
  try {
    const existing = Number((await pool.query<{ n: string }>('SELECT count(*)::text AS n FROM events')).rows[0]!.n);
    let log: Partial<Awaited<ReturnType<typeof writeLog>>> & { events: number; reused?: boolean };
    if (keepDataDir && existing >= targetEvents) {
      log = { events: existing, reused: true };
      process.stderr.write(`log reused: ${existing} events in ${keepDataDir}\n`);
    } else {
      if (existing > 0) throw new Error(`${keepDataDir} holds a log of ${existing} events, fewer than ${targetEvents}: remove it first`);
      log = await writeLog(store);
      process.stderr.write(`log written: ${JSON.stringify({ events: log.events, seconds: log.seconds })}\n`);
    }
    // As a live database would be after autovacuum: fresh statistics, dirty pages flushed.
    await pool.query('VACUUM ANALYZE');
    await pool.query('CHECKPOINT');
    const head = await store.headPosition();

    const deps = { pool, store, fanoutLimit: FANOUT_LIMIT };
    await ensureProjectionSchemas(pool);
    const projections: Record<string, { events: number; durationMs: number; eventsPerSecond: number; benchProcessCpuMs: number; postgresCpuMs?: number; phasesMs?: object }> = {};
    const chosen = ALL_PROJECTIONS.filter((def) => !onlyProjections || onlyProjections.includes(def.name));
    for (const def of chosen.flatMap((d) => Array.from({ length: repeats }, () => d))) {
      process.stderr.write(`rebuilding ${def.name}...\n`);
      const cpuBefore = process.cpuUsage();
      const pgCpuBefore = postgresCpuMs(postgres.dataDir);
      const result = await rebuildProjection(deps, def.name);
      const cpu = process.cpuUsage(cpuBefore);
      const pgCpuAfter = postgresCpuMs(postgres.dataDir);
      projections[def.name] = {
        events: result.events,
        durationMs: result.durationMs,
        eventsPerSecond: Math.round(result.events / (result.durationMs / 1000)),
        // Node's share of the work (reading, folding, building JSON); the rest is PostgreSQL or waiting.
        benchProcessCpuMs: Math.round((cpu.user + cpu.system) / 1000),
        // PostgreSQL's share (every process of the bench's own cluster), where /proc tells.
        ...(pgCpuBefore !== undefined && pgCpuAfter !== undefined ? { postgresCpuMs: Math.round(pgCpuAfter - pgCpuBefore) } : {}),
        ...(result.phasesMs ? { phasesMs: result.phasesMs } : {}),
      };
      process.stderr.write(`rebuilt ${def.name}: ${JSON.stringify(projections[def.name])}\n`);
    }
    const totalMs = Object.values(projections).reduce((sum, p) => sum + p.durationMs, 0);
    const slowest = Object.entries(projections).sort((a, b) => a[1].eventsPerSecond - b[1].eventsPerSecond)[0]!;
    console.log(
      JSON.stringify(
        {
          benchmark: 'rebuild',
          store: 'postgres (embedded)',
          fanoutLimit: FANOUT_LIMIT,
          headPosition: head.toString(),
          log,
          rebuild: {
            how: 'rebuildProjection for each projection in turn (shadow schema, swap), as `missive projections rebuild` does',
            projections,
            all: {
              durationMs: totalMs,
              eventsPerSecond: Math.round(log.events / (totalMs / 1000)),
              meaning: 'the log replayed through every projection, one after another',
            },
            target: { eventsPerSecond: 20_000, slowest: slowest[0], metBySlowest: slowest[1].eventsPerSecond >= 20_000 },
          },
          loadAverage: { atStart: loadAtStart, atEnd: os.loadavg() },
          machine: machine(),
        },
        null,
        2,
      ),
    );
  } finally {
    await store.close();
    await pool.end();
    await postgres.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
