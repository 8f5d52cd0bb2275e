// The projection runner: follows the event store's global order from each projection's checkpoint
// and applies batches (rows + checkpoint in one transaction, applyBatch.ts). One loop per
// projection; a wake-up subscription on the store makes them react at once to appends, polling is
// the safety net. Transient failures are logged and retried with backoff from the stored checkpoint.
import type pg from 'pg';
import type { RecordedEvent } from '../store/eventStore.js';
import { createWakeup, heldBackDelayMs, retryDelayMs, sleepUnlessAborted } from '../store/wakeup.js';
import { applyLiveBatch } from './applyBatch.js';
import { ALL_PROJECTIONS } from './catalog.js';
import { readCheckpoint, readCheckpoints, touchHeartbeat, type Checkpoint } from './checkpoints.js';
import type { ProjectionDefinition } from './definition.js';
import { DEFAULT_BATCH_SIZE, silentLogger, type ProjectionDeps } from './deps.js';
import { ProjectionStateError, RebuildInProgressError } from './errors.js';
import { projectionsBeingRebuilt } from './locks.js';
import { rebuildProjection } from './rebuild.js';
import { ensureProjectionSchemas } from './schemas.js';

export type { ApplyContext, ProjectionDefinition } from './definition.js';

export interface ProjectionStatus {
  name: string;
  version: number;
  epoch: number;
  checkpoint: bigint;
  headPosition: bigint;
  /** Global positions between the checkpoint and the head (positions may have gaps: an upper bound). */
  lagEvents: number;
  /** Age of the oldest event not applied yet (0 when caught up). */
  lagSeconds: number;
  state: 'running' | 'stopped' | 'rebuilding' | 'behind';
  /** The stored read model was built by another code version: it must be rebuilt. */
  needsRebuild: boolean;
}

export interface ProjectionRunnerOptions extends ProjectionDeps {
  /** Re-read interval without a wake-up, ms (default 250). */
  pollIntervalMs?: number;
  /** Rebuild a projection whose stored version differs from the code's before running it (default true). */
  autoRebuild?: boolean;
  /** A running projection is 'behind' in status when its oldest unapplied event is older than this (default 5 s). */
  behindAfterSeconds?: number;
  /** Called after each committed batch (e.g. to push sync hints); errors are logged, never retried. */
  onApplied?: (projection: string, events: readonly RecordedEvent[]) => void | Promise<void>;
}

export interface ProjectionRunner {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Applies every projection up to the current head, then returns (tests, tools). Errors propagate. */
  catchUp(): Promise<void>;
  status(): Promise<ProjectionStatus[]>;
  /** Wakes the loops now (e.g. after an append in this process). */
  notify(): void;
}

const HEARTBEAT_MS = 5_000;
const CATCH_UP_FENCE_TIMEOUT_MS = 10_000;

/**
 * Waits until every transaction that was running when called has ended. A PostgreSQL event store
 * shows the global order only below the oldest open transaction (DESIGN.md §10), so an event
 * committed before catchUp() may stay invisible while an older transaction that could append is
 * open (migrations/004); after this wait, everything committed before the call is readable.
 */
async function waitForEarlierTransactions(pool: pg.Pool): Promise<void> {
  const started = await pool.query<{ xmax: string }>('SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS xmax');
  const xmax = started.rows[0]!.xmax;
  const deadline = Date.now() + CATCH_UP_FENCE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const now = await pool.query<{ passed: boolean }>('SELECT missive_read_fence() >= $1::xid8 AS passed', [xmax]);
    if (now.rows[0]!.passed) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
/** A batch slower than this halves the next one; faster than a quarter of it grows it back. */
const SLOW_BATCH_MS = 2_000;
const MIN_BATCH = 10;

export function createProjectionRunner(options: ProjectionRunnerOptions): ProjectionRunner {
  const { pool, store, fanoutLimit } = options;
  const projections = options.projections ?? ALL_PROJECTIONS;
  const logger = options.logger ?? silentLogger;
  const maxBatch = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const autoRebuild = options.autoRebuild ?? true;
  const wakeup = createWakeup();
  let stopping: AbortController | null = null;
  let loops: Promise<void>[] = [];
  let hint: { stop(): Promise<void> } | null = null;
  const running = new Set<string>();

  /** The checkpoint to continue from, rebuilding first when the stored model is another version's. */
  async function readyCheckpoint(def: ProjectionDefinition): Promise<Checkpoint> {
    let checkpoint = await readCheckpoint(pool, def.name);
    if (!checkpoint) throw new ProjectionStateError(`Projection ${def.name} is not registered (ensureProjectionSchemas)`);
    if (checkpoint.version !== def.version) {
      if (!autoRebuild) throw new ProjectionStateError(`Projection ${def.name} was built by version ${checkpoint.version}; rebuild it`);
      logger.warn({ projection: def.name, stored: checkpoint.version, code: def.version }, 'projection version changed: rebuilding');
      await rebuildProjection({ ...options, projections }, def.name);
      checkpoint = (await readCheckpoint(pool, def.name))!;
    }
    return checkpoint;
  }

  async function announce(def: ProjectionDefinition, events: readonly RecordedEvent[]): Promise<void> {
    try {
      await options.onApplied?.(def.name, events);
    } catch (error) {
      logger.error({ projection: def.name, err: error }, 'onApplied failed');
    }
  }

  /** Reads and applies one batch. 'idle' when caught up; the checkpoint is null after a conflict. */
  async function step(def: ProjectionDefinition, checkpoint: Checkpoint, size: number): Promise<{ idle: boolean; heldBack?: boolean; checkpoint: Checkpoint | null }> {
    const page = await store.readAll({ after: checkpoint.position, maxCount: size });
    if (page.events.length === 0) return { idle: true, heldBack: page.heldBack === true, checkpoint };
    const next = await applyLiveBatch(pool, def, checkpoint, page.events, page.lastPosition, fanoutLimit, options.failpoints);
    if (next) await announce(def, page.events);
    else logger.info({ projection: def.name, position: checkpoint.position.toString() }, 'checkpoint moved by another worker');
    return { idle: false, checkpoint: next };
  }

  async function follow(def: ProjectionDefinition, signal: AbortSignal): Promise<void> {
    let checkpoint: Checkpoint | null = null;
    let size = maxBatch;
    let failures = 0;
    let heldBackAttempts = 0;
    let lastBeat = 0;
    while (!signal.aborted) {
      const seen = wakeup.version();
      try {
        checkpoint ??= await readyCheckpoint(def);
        const started = Date.now();
        const outcome = await step(def, checkpoint, size);
        checkpoint = outcome.checkpoint;
        failures = 0;
        if (outcome.idle) {
          if (Date.now() - lastBeat > HEARTBEAT_MS) {
            await touchHeartbeat(pool, def.name);
            lastBeat = Date.now();
          }
          // Held back behind an open transaction: its commit may wake nobody, so look again soon.
          const wait = outcome.heldBack ? heldBackDelayMs(heldBackAttempts++, pollIntervalMs) : pollIntervalMs;
          if (!outcome.heldBack) heldBackAttempts = 0;
          await wakeup.waitFor(seen, wait, signal);
        } else {
          heldBackAttempts = 0;
          const took = Date.now() - started;
          if (took > SLOW_BATCH_MS) size = Math.max(MIN_BATCH, Math.floor(size / 2));
          else if (took < SLOW_BATCH_MS / 4) size = Math.min(maxBatch, size * 2);
        }
      } catch (error) {
        failures += 1;
        checkpoint = null;
        if (!(error instanceof RebuildInProgressError)) logger.error({ projection: def.name, err: error, failures }, 'projection batch failed');
        await sleepUnlessAborted(retryDelayMs(failures), signal);
      }
    }
  }

  return {
    async start() {
      if (stopping) return;
      await ensureProjectionSchemas(pool, projections);
      stopping = new AbortController();
      const signal = stopping.signal;
      hint = store.subscribe({ after: await store.headPosition(), batchSize: 1_000, onEvents: async () => wakeup.notify() });
      loops = projections.map((def) => {
        running.add(def.name);
        return follow(def, signal).finally(() => running.delete(def.name));
      });
      logger.info({ projections: projections.map((p) => p.name) }, 'projection runner started');
    },

    async stop() {
      if (!stopping) return;
      stopping.abort();
      await Promise.all(loops);
      await hint?.stop();
      stopping = null;
      hint = null;
      loops = [];
    },

    async catchUp() {
      await ensureProjectionSchemas(pool, projections);
      await waitForEarlierTransactions(pool);
      await Promise.all(
        projections.map(async (def) => {
          let checkpoint: Checkpoint | null = await readyCheckpoint(def);
          let heldBackAttempts = 0;
          for (;;) {
            const outcome = await step(def, checkpoint, maxBatch);
            checkpoint = outcome.checkpoint ?? (await readyCheckpoint(def));
            if (!outcome.idle) {
              heldBackAttempts = 0;
              continue;
            }
            if (!outcome.heldBack) return;
            // Committed events wait behind an open transaction (an autovacuum, a slow append):
            // "caught up" must include them, so wait for it, but not forever and never silently.
            if (heldBackAttempts * 100 > CATCH_UP_FENCE_TIMEOUT_MS) throw new ProjectionStateError(`Projection ${def.name}: committed events still held back by an open transaction after ${CATCH_UP_FENCE_TIMEOUT_MS} ms`);
            await new Promise((resolve) => setTimeout(resolve, heldBackDelayMs(heldBackAttempts++, 100)));
          }
        }),
      );
    },

    async status() {
      const names = projections.map((p) => p.name);
      const [checkpoints, head, rebuilding] = await Promise.all([readCheckpoints(pool, names), store.headPosition(), projectionsBeingRebuilt(pool, names)]);
      return Promise.all(
        projections.map(async (def): Promise<ProjectionStatus> => {
          const checkpoint = checkpoints.get(def.name);
          const position = checkpoint?.position ?? 0n;
          const lagEvents = head > position ? Number(head - position) : 0;
          let lagSeconds = 0;
          if (lagEvents > 0) {
            const next = await store.readAll({ after: position, maxCount: 1 });
            const oldest = next.events[0];
            if (oldest) lagSeconds = Math.max(0, (Date.now() - oldest.recordedAt.getTime()) / 1000);
          }
          const needsRebuild = !checkpoint || checkpoint.version !== def.version;
          const alive = running.has(def.name) || (checkpoint?.heartbeatAt ? Date.now() - checkpoint.heartbeatAt.getTime() < 3 * HEARTBEAT_MS : false);
          const state: ProjectionStatus['state'] = rebuilding.has(def.name)
            ? 'rebuilding'
            : needsRebuild || (alive && lagSeconds > (options.behindAfterSeconds ?? 5))
              ? 'behind'
              : alive
                ? 'running'
                : 'stopped';
          return { name: def.name, version: def.version, epoch: checkpoint?.epoch ?? 0, checkpoint: position, headPosition: head, lagEvents, lagSeconds, state, needsRebuild };
        }),
      );
    },

    notify: () => wakeup.notify(),
  };
}
