// The PostgreSQL EventStore: appends through missive_append (append.ts), reads below the oldest open
// transaction that could append (reads.ts, migrations/004), and subscriptions woken three ways: at once by appends through this
// instance, by LISTEN/NOTIFY for appends from other processes, and by polling as the safety net.
// The pool belongs to the caller: close() stops subscriptions and the listener, not the pool.
import type pg from 'pg';
import { MAX_EVENT_BYTES, StoreUnavailableError, type EventStore, type ExpectedRevision, type NewEvent } from '../eventStore.js';
import { checkSubscribeOptions } from '../memory/requestChecks.js';
import { createSubscriptionSet, createWakeup } from '../wakeup.js';
import { appendToPostgres, beginAppend, createAppendBatcher, DEFAULT_APPEND_BATCHING, type AppendBatcherOptions, type AppendSettings, type PendingAppend } from './append.js';
import { listenForAppends, type AppendListener } from './appendListener.js';
import { headPositionInPostgres, readAllFromPostgres, readStreamFromPostgres } from './reads.js';
import { translatingErrors } from './storeErrors.js';

export interface PostgresEventStoreOptions {
  pool: pg.Pool;
  /** For the LISTEN connection; defaults to the pool's own connection settings. */
  connectionString?: string;
  /** How often a caught-up subscription re-reads without a wake-up. Default 250 ms. */
  pollIntervalMs?: number;
  /** NOTIFY on append and LISTEN while subscribed, to wake other processes. Default true. */
  notify?: boolean;
  maxEventBytes?: number;
  /**
   * Group commit of concurrent appends to different streams (append.ts, createAppendBatcher); false:
   * every append is its own statement and transaction. Default on.
   */
  appendBatching?: AppendBatcherOptions | false;
}

export interface PostgresEventStore extends EventStore {
  /** Test-only: an append whose transaction stays open until commit() (see append.ts). */
  beginAppend(streamId: string, events: NewEvent[], expected: ExpectedRevision): Promise<PendingAppend>;
}

export function createPostgresEventStore(options: PostgresEventStoreOptions): PostgresEventStore {
  const { pool } = options;
  const notify = options.notify ?? true;
  const settings: AppendSettings = { maxEventBytes: options.maxEventBytes ?? MAX_EVENT_BYTES, notify };
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const batching = options.appendBatching ?? DEFAULT_APPEND_BATCHING;
  const batcher = batching ? createAppendBatcher(pool, settings, batching) : undefined;
  const wakeup = createWakeup();
  let listener: AppendListener | undefined;
  let closed = false;

  // LISTEN only while someone follows the log: a store used for appends holds no extra connection.
  const subscriptions = createSubscriptionSet((live) => {
    if (!notify) return;
    if (live > 0 && !listener) {
      listener = listenForAppends(options.connectionString ? { connectionString: options.connectionString } : pool.options, wakeup.notify);
    } else if (live === 0 && listener) {
      void listener.stop();
      listener = undefined;
    }
  });

  /** Runs `operation` unless closed, with pg failures translated to the port's errors. */
  const whenOpen = <T>(operation: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new StoreUnavailableError('The PostgreSQL event store is closed'));
    return translatingErrors(operation);
  };

  return {
    append: (streamId, events, expected) =>
      whenOpen(async () => {
        const result = batcher ? await batcher.append(streamId, events, expected) : await appendToPostgres(pool, settings, streamId, events, expected);
        if (result.events.some((e) => !e.duplicate)) wakeup.notify();
        return result;
      }),
    readStream: (streamId, readOptions = {}) => whenOpen(() => readStreamFromPostgres(pool, streamId, readOptions)),
    readAll: (readOptions = {}) => whenOpen(() => readAllFromPostgres(pool, readOptions)),
    headPosition: () => whenOpen(() => headPositionInPostgres(pool)),
    subscribe(subscribeOptions) {
      if (closed) throw new StoreUnavailableError('The PostgreSQL event store is closed');
      checkSubscribeOptions(subscribeOptions);
      return subscriptions.follow({ subscribe: subscribeOptions, readAll: (o) => translatingErrors(() => readAllFromPostgres(pool, o)), wakeup, pollIntervalMs });
    },
    async close() {
      closed = true;
      await subscriptions.stopAll();
      await listener?.stop();
      listener = undefined;
    },
    beginAppend: (streamId, events, expected) =>
      whenOpen(async () => {
        const pending = await beginAppend(pool, settings, streamId, events, expected);
        const commit = async () => {
          await translatingErrors(pending.commit);
          wakeup.notify();
        };
        return { ...pending, commit };
      }),
  };
}
