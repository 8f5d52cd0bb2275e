// The relay (DESIGN.md §8): follows the event store's global order from its checkpoint and publishes
// every event to the bus, page by page. The checkpoint moves only after the bus acknowledged a whole
// page, so a relay killed at any moment republishes at most the unacknowledged pages: delivery is at
// least once, in global order, and consumers deduplicate by global position. Reading the next page
// overlaps publishing the current one. Only the holder of the leader lease publishes.
import type pg from 'pg';
import type { EventPublisher, BusLogger } from '../bus/eventBus.js';
import { silentBusLogger } from '../bus/eventBus.js';
import type { EventStore, ReadAllPage, RecordedEvent, Subscription } from '../store/eventStore.js';
import { createWakeup, heldBackDelayMs, retryDelayMs, sleepUnlessAborted } from '../store/wakeup.js';
import { acquireLeaderLease, type LeaderLease } from './leaderLease.js';
import { advanceRelayCheckpoint, readRelayCheckpoint } from './relayCheckpoint.js';

export interface RelayOptions {
  /** PostgreSQL holding relay_checkpoints (migration 003) and the leader lock. */
  pool: pg.Pool;
  store: EventStore;
  publisher: EventPublisher;
  /** The checkpoint's name: one per destination (e.g. 'kafka:missive.events'). */
  name: string;
  /** Events per page, i.e. per publish (default 2,000). */
  batchSize?: number;
  /** Re-read interval without a wake-up, ms (default 250). */
  pollIntervalMs?: number;
  /** How often a standby relay tries to take over, ms (default 1,000). */
  standbyRetryMs?: number;
  logger?: BusLogger;
  /** Called after each acknowledged and checkpointed page (metrics, tests). */
  onPublished?: (events: readonly RecordedEvent[]) => void;
}

export interface Relay {
  start(): Promise<void>;
  /** Stops after the page in flight; its checkpoint is committed if the bus acknowledged it. */
  stop(): Promise<void>;
}

export class RelayCheckpointMovedError extends Error {}

export function createRelay(options: RelayOptions): Relay {
  const { pool, store, publisher, name } = options;
  const batchSize = options.batchSize ?? 2_000;
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const logger = options.logger ?? silentBusLogger;
  const wakeup = createWakeup();
  let stopping: AbortController | undefined;
  let running: Promise<void> | undefined;
  let hint: Subscription | undefined;

  /** Publishes pages until aborted or the lease is lost; throws on any failure (the caller retries). */
  async function relayWhileLeader(lease: LeaderLease, signal: AbortSignal): Promise<void> {
    let position = await readRelayCheckpoint(pool, name);
    logger.info({ relay: name, position: position.toString() }, 'relay active');
    const read = (after: bigint) => {
      const page = store.readAll({ after, maxCount: batchSize });
      page.catch(() => {}); // awaited below; this only keeps an abandoned prefetch from going unhandled
      return page;
    };
    let next: Promise<ReadAllPage> = read(position);
    let heldBackAttempts = 0;
    while (!signal.aborted && lease.held) {
      const seen = wakeup.version();
      const page = await next;
      if (page.events.length === 0) {
        const wait = page.heldBack ? heldBackDelayMs(heldBackAttempts++, pollIntervalMs) : pollIntervalMs;
        if (!page.heldBack) heldBackAttempts = 0;
        await wakeup.waitFor(seen, wait, signal);
        next = read(position);
        continue;
      }
      heldBackAttempts = 0;
      next = read(page.lastPosition);
      await publisher.publish(page.events);
      if (!(await advanceRelayCheckpoint(pool, name, position, page.lastPosition))) {
        throw new RelayCheckpointMovedError(`relay checkpoint ${name} was moved by another relay`);
      }
      position = page.lastPosition;
      options.onPublished?.(page.events);
    }
  }

  async function run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      let lease: LeaderLease | undefined;
      try {
        lease = await acquireLeaderLease(pool, `relay:${name}`, signal, options.standbyRetryMs);
        if (!lease) return;
        await relayWhileLeader(lease, signal);
        if (!lease.held) throw new Error('relay lost its leader lock (its PostgreSQL connection failed)');
        failures = 0;
      } catch (error) {
        failures += 1;
        logger.error({ relay: name, err: error, failures }, 'relay failed; retrying from its checkpoint');
        await sleepUnlessAborted(retryDelayMs(failures), signal);
      } finally {
        await lease?.release();
      }
    }
  }

  return {
    async start() {
      if (stopping) return;
      stopping = new AbortController();
      hint = store.subscribe({ after: await store.headPosition(), batchSize: 1_000, onEvents: async () => wakeup.notify() });
      running = run(stopping.signal);
    },
    async stop() {
      if (!stopping) return;
      stopping.abort();
      await running;
      await hint?.stop();
      stopping = undefined;
      running = undefined;
      hint = undefined;
    },
  };
}
