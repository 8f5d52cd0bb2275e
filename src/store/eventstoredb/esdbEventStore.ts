// The EventStore port on EventStoreDB / KurrentDB (distributed mode, EVENTSTORE_URL). Each operation
// lives in its own module; this one connects, wires them together and owns the client's lifetime.
// docs/eventstoredb.md explains the mapping and its limits (idempotency window, cross-stream ids).
import { EventStoreDBClient } from '@eventstore/db-client';
import { ConfigError } from '../../config/config.js';
import { MAX_EVENT_BYTES, StoreUnavailableError, type EventStore, type Subscription } from '../eventStore.js';
import { checkSubscribeOptions } from '../memory/requestChecks.js';
import { createEsdbAppend } from './esdbAppend.js';
import { normalizeConnectionString } from './esdbMapping.js';
import { readAllPage, readHeadPosition, readStreamEvents } from './esdbReads.js';
import { allStreamFeedSource, followAllStream } from './esdbSubscription.js';

export interface EventStoreDbEventStoreOptions {
  /** esdb://host:2113?tls=false, esdb+discover://..., or the kurrentdb:// equivalents. */
  connectionString: string;
  maxEventBytes?: number;
  /** How many of a stream's newest events an append searches for already-stored ids. Default 10,000. */
  idempotencyLookback?: number;
}

export const DEFAULT_IDEMPOTENCY_LOOKBACK = 10_000;

function connect(connectionString: string): EventStoreDBClient {
  try {
    return EventStoreDBClient.connectionString(normalizeConnectionString(connectionString));
  } catch (error) {
    throw new ConfigError(`EVENTSTORE_URL is not a valid EventStoreDB connection string: ${(error as Error).message}`, { cause: error });
  }
}

function checkedCount(name: string, value: number | undefined, fallback: number, minimum: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < minimum) throw new ConfigError(`${name} must be an integer of at least ${minimum}, got ${value}`);
  return value;
}

export function createEventStoreDbEventStore(options: EventStoreDbEventStoreOptions): EventStore {
  const settings = {
    maxEventBytes: checkedCount('maxEventBytes', options.maxEventBytes, MAX_EVENT_BYTES, 1),
    idempotencyLookback: checkedCount('idempotencyLookback', options.idempotencyLookback, DEFAULT_IDEMPOTENCY_LOOKBACK, 0),
  };
  const client = connect(options.connectionString);
  const append = createEsdbAppend(client, settings);
  const live = new Set<Subscription>();
  let closed = false;

  /** After close() the client is disposed; a call would silently reconnect, so it fails instead. */
  const whenOpen = <T>(operation: () => T): T => {
    if (closed) throw new StoreUnavailableError('The EventStoreDB event store is closed');
    return operation();
  };

  return {
    append: async (streamId, events, expected) => whenOpen(() => append(streamId, events, expected)),
    readStream: async (streamId, readOptions = {}) => whenOpen(() => readStreamEvents(client, streamId, readOptions)),
    readAll: async (readOptions = {}) => whenOpen(() => readAllPage(client, readOptions)),
    headPosition: async () => whenOpen(() => readHeadPosition(client)),
    subscribe: (subscribeOptions) =>
      whenOpen(() => {
        checkSubscribeOptions(subscribeOptions);
        const subscription = followAllStream(allStreamFeedSource(client), subscribeOptions);
        live.add(subscription);
        return {
          async stop() {
            await subscription.stop();
            live.delete(subscription);
          },
        };
      }),
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...live].map((subscription) => subscription.stop()));
      live.clear();
      await client.dispose();
    },
  };
}
