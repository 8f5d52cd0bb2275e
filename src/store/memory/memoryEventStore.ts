// The in-memory EventStore: the reference semantics of the port, for unit tests and for embedded
// tests of other modules. An append runs to completion within one tick (no await before it is
// stored), so it is atomic and concurrent appends serialise exactly like a real store's would.
// Stored payloads are frozen JSON copies: a caller that mutates an event finds out at once.
import {
  EventIdConflictError,
  MAX_EVENT_BYTES,
  StoreUnavailableError,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type ReadAllOptions,
  type ReadAllPage,
  type ReadStreamOptions,
  type RecordedEvent,
} from '../eventStore.js';
import { createSubscriptionSet, createWakeup } from '../wakeup.js';
import {
  checkReadAllOptions,
  checkReadStreamOptions,
  checkSubscribeOptions,
  prepareAppend,
  revisionMatches,
  type PreparedEvent,
} from './requestChecks.js';

export interface MemoryEventStoreOptions {
  maxEventBytes?: number;
  /** How often a caught-up subscription re-reads without a wake-up (a safety net only). Default 250. */
  pollIntervalMs?: number;
}

export function createMemoryEventStore(options: MemoryEventStoreOptions = {}): EventStore {
  const maxEventBytes = options.maxEventBytes ?? MAX_EVENT_BYTES;
  /** The global order; the event at index i has globalPosition i + 1. */
  const log: RecordedEvent[] = [];
  const streams = new Map<string, RecordedEvent[]>();
  const byEventId = new Map<string, RecordedEvent>();
  const wakeup = createWakeup();
  const subscriptions = createSubscriptionSet();
  let closed = false;

  /** Runs `operation` unless the store is closed (subscriptions read through it until they stopped). */
  const whenOpen = <T>(operation: () => T): T => {
    if (closed) throw new StoreUnavailableError('The memory event store is closed');
    return operation();
  };

  function store(streamId: string, prepared: PreparedEvent, streamPosition: number): RecordedEvent {
    const record: RecordedEvent = deepFreeze({
      eventId: prepared.event.eventId,
      type: prepared.event.type,
      streamId,
      streamPosition,
      globalPosition: BigInt(log.length + 1),
      recordedAt: new Date(),
      data: JSON.parse(prepared.dataJson) as unknown,
      metadata: JSON.parse(prepared.metadataJson) as RecordedEvent['metadata'],
    });
    log.push(record);
    byEventId.set(record.eventId, record);
    return record;
  }

  function appendNow(streamId: string, events: NewEvent[], expected: ExpectedRevision): AppendResult {
    const prepared = prepareAppend(streamId, events, expected, maxEventBytes);
    const stream = streams.get(streamId) ?? [];
    const head = stream.length - 1;
    const stored = prepared.map((p) => byEventId.get(p.event.eventId));
    const foreign = stored.find((record) => record !== undefined && record.streamId !== streamId);
    if (foreign) throw new EventIdConflictError(foreign.eventId, foreign.streamId);

    const allDuplicates = prepared.length > 0 && stored.every((record) => record !== undefined);
    if (!allDuplicates && !revisionMatches(expected, head)) throw new WrongExpectedRevisionError(streamId, expected, head);

    let nextPosition = head + 1;
    const results = prepared.map((p, i) => {
      const existing = stored[i];
      return existing ? { record: existing, duplicate: true } : { record: store(streamId, p, nextPosition++), duplicate: false };
    });
    const added = results.filter((r) => !r.duplicate).map((r) => r.record);
    if (added.length > 0) {
      streams.set(streamId, [...stream, ...added]);
      wakeup.notify();
    }
    return { nextExpectedRevision: nextPosition - 1, events: results };
  }

  function readStreamNow(streamId: string, readOptions: ReadStreamOptions): RecordedEvent[] {
    checkReadStreamOptions(streamId, readOptions);
    const stream = streams.get(streamId) ?? [];
    const maxCount = readOptions.maxCount ?? Number.MAX_SAFE_INTEGER;
    if (readOptions.direction === 'backwards') {
      const from = Math.min(readOptions.fromPosition ?? stream.length - 1, stream.length - 1);
      return stream.slice(Math.max(0, from + 1 - maxCount), from + 1).reverse();
    }
    const from = readOptions.fromPosition ?? 0;
    return stream.slice(from, from + maxCount);
  }

  function readAllNow(readOptions: ReadAllOptions): ReadAllPage {
    checkReadAllOptions(readOptions);
    const after = readOptions.after ?? 0n;
    const start = Number(after < BigInt(log.length) ? after : BigInt(log.length));
    const events = log.slice(start, start + (readOptions.maxCount ?? log.length));
    return { events, lastPosition: events.at(-1)?.globalPosition ?? after };
  }

  return {
    append: async (streamId, events, expected) => whenOpen(() => appendNow(streamId, events, expected)),
    readStream: async (streamId, readOptions = {}) => whenOpen(() => readStreamNow(streamId, readOptions)),
    readAll: async (readOptions = {}) => whenOpen(() => readAllNow(readOptions)),
    headPosition: async () => whenOpen(() => BigInt(log.length)),
    subscribe: (subscribeOptions) =>
      whenOpen(() => {
        checkSubscribeOptions(subscribeOptions);
        return subscriptions.follow({
          subscribe: subscribeOptions,
          readAll: async (readOptions) => readAllNow(readOptions),
          wakeup,
          pollIntervalMs: options.pollIntervalMs ?? 250,
        });
      }),
    async close() {
      closed = true;
      await subscriptions.stopAll();
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
