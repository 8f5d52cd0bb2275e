// The hot projection: follows the log's global order into the hot tier (hotStore.ts). Its checkpoint
// and epoch live in the hot tier itself and move with each batch in one atomic step, so the data and
// the checkpoint can only be lost together. A missing state (FLUSHALL, Redis restarted without
// persistence, a fresh process with the memory adapter) starts a new epoch at position 0 and the
// projection rebuilds from the log by itself; readers skip the hot tier until it has caught up.
import type { EventStore } from '../store/eventStore.js';
import { createWakeup, heldBackDelayMs, retryDelayMs, sleepUnlessAborted } from '../store/wakeup.js';
import { silentLogger, type ProjectionLogger } from '../projections/deps.js';
import { hotOpsOf } from './hotOps.js';
import { batchFactsOf } from '../projections/fold/batchFacts.js';
import { foldHotSessions, sessionConversationIds, sessionLoadPlan, type HotSessionWrites } from './hotSessions.js';
import type { HotState, HotStore } from './hotStore.js';

export interface HotProjectionOptions {
  store: EventStore;
  hot: HotStore;
  /** Items kept per conversation (default 200). */
  maxItems?: number;
  batchSize?: number;
  /** FANOUT_LIMIT: the session rows of larger groups keep no unread here (hotSessions.ts). Default 500. */
  fanoutLimit?: number;
  /** Re-read interval without a wake-up, ms (default 250); also how soon a lost state is noticed. */
  pollIntervalMs?: number;
  logger?: ProjectionLogger;
}

export interface HotProjectionStatus {
  kind: HotStore['kind'];
  epoch: number | null;
  checkpoint: bigint | null;
  ready: boolean;
  /** How many times this process found the hot state missing and started a rebuild. */
  rebuilds: number;
}

export interface HotProjection {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Applies the log up to its current head (and marks the epoch ready), then returns. Errors propagate. */
  catchUp(): Promise<void>;
  status(): Promise<HotProjectionStatus>;
  notify(): void;
}

export const DEFAULT_HOT_ITEMS = 200;

export function createHotProjection(options: HotProjectionOptions): HotProjection {
  const { store, hot } = options;
  const maxItems = options.maxItems ?? DEFAULT_HOT_ITEMS;
  const batchSize = options.batchSize ?? 1_000;
  const fanoutLimit = options.fanoutLimit ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const logger = options.logger ?? silentLogger;
  const wakeup = createWakeup();
  let rebuilds = 0;
  let stopping: AbortController | null = null;
  let loop: Promise<void> | null = null;
  let hint: { stop(): Promise<void> } | null = null;

  /** The state to continue from; a lost one is replaced by a new empty epoch (the rebuild). */
  async function currentState(): Promise<HotState> {
    const state = await hot.readState();
    if (state) return state;
    rebuilds += 1;
    const fresh = await hot.reset();
    logger.warn({ tier: 'hot', adapter: hot.kind, epoch: fresh.epoch }, 'hot tier has no state (new, flushed or restarted): rebuilding it from the log');
    return fresh;
  }

  /** The batch's session writes, folded over the state `state.epoch` holds (the apply's CAS guards it). */
  async function sessionWrites(state: HotState, events: Parameters<typeof batchFactsOf>[0]): Promise<HotSessionWrites | undefined> {
    const { ordered } = batchFactsOf(events);
    if (ordered.length === 0) return undefined;
    const conversations = await hot.readSessionConversations(state.epoch, sessionConversationIds(ordered));
    const plan = sessionLoadPlan(ordered, conversations, fanoutLimit);
    const members = await hot.readSessionMembers(state.epoch, plan);
    const pairs = [...plan.rows];
    for (const c of plan.allMembersOf) for (const u of members.get(c)?.keys() ?? []) pairs.push({ userId: u, conversationId: c });
    const rows = await hot.readSessionRows(state.epoch, pairs);
    return foldHotSessions({ ordered, conversations, members, rows, complete: new Set(plan.allMembersOf), fanoutLimit });
  }

  /** One batch. idle: caught up; state null: the compare-and-set failed (re-read it). */
  async function step(state: HotState): Promise<{ idle: boolean; heldBack: boolean; state: HotState | null }> {
    const page = await store.readAll({ after: state.checkpoint, maxCount: batchSize });
    if (page.events.length === 0) {
      if (!state.ready && !page.heldBack && (await hot.markReady(state.epoch))) {
        logger.info({ tier: 'hot', epoch: state.epoch, position: state.checkpoint.toString() }, 'hot tier caught up: serving reads');
        return { idle: true, heldBack: false, state: { ...state, ready: true } };
      }
      return { idle: true, heldBack: page.heldBack === true, state };
    }
    const applied = await hot.apply(state, page.lastPosition, hotOpsOf(page.events), maxItems, await sessionWrites(state, page.events));
    return { idle: false, heldBack: false, state: applied ? { ...state, checkpoint: page.lastPosition } : null };
  }

  async function follow(signal: AbortSignal): Promise<void> {
    let failures = 0;
    let heldBackAttempts = 0;
    while (!signal.aborted) {
      const seen = wakeup.version();
      try {
        // Read every time: this is how a flushed Redis is noticed within one poll interval.
        const outcome = await step(await currentState());
        failures = 0;
        if (outcome.idle) {
          const wait = outcome.heldBack ? heldBackDelayMs(heldBackAttempts++, pollIntervalMs) : pollIntervalMs;
          if (!outcome.heldBack) heldBackAttempts = 0;
          await wakeup.waitFor(seen, wait, signal);
        }
      } catch (error) {
        failures += 1;
        logger.error({ tier: 'hot', err: error, failures }, 'hot projection batch failed');
        await sleepUnlessAborted(retryDelayMs(failures), signal);
      }
    }
  }

  return {
    async start() {
      if (stopping) return;
      stopping = new AbortController();
      hint = store.subscribe({ after: await store.headPosition(), batchSize: 1_000, onEvents: async () => wakeup.notify() });
      loop = follow(stopping.signal);
    },
    async stop() {
      if (!stopping) return;
      stopping.abort();
      await loop;
      await hint?.stop();
      stopping = null;
      loop = null;
      hint = null;
    },
    async catchUp() {
      let state = await currentState();
      for (let rounds = 0; rounds < 1_000_000; rounds++) {
        const outcome = await step(state);
        // Held back: committed events past the fence exist (an older transaction is still open); a ready
        // epoch would otherwise return before them and leave the caller reading a hot tier behind the log.
        if (outcome.idle && outcome.state?.ready && !outcome.heldBack) return;
        if (outcome.idle && outcome.heldBack) await new Promise((resolve) => setTimeout(resolve, 5));
        state = outcome.state ?? (await currentState());
      }
    },
    async status() {
      const state = await hot.readState();
      return { kind: hot.kind, epoch: state?.epoch ?? null, checkpoint: state?.checkpoint ?? null, ready: state?.ready ?? false, rebuilds };
    },
    notify: () => wakeup.notify(),
  };
}
