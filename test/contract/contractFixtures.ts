// Small helpers the event store contract suite shares: fresh events, unique stream names, waiting
// for an asynchronous condition, and a subscriber that records what it was given.
import { randomUUID } from 'node:crypto';
import type { EventStore, NewEvent, RecordedEvent, Subscription } from '../../src/store/eventStore.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A stream-name prefix unique to one test, so tests can share a store (and other writers) safely. */
export const uniquePrefix = (): string => `contract-${randomUUID().replaceAll('-', '')}`;

let counter = 0;

export function newEvent(overrides: Partial<NewEvent> = {}): NewEvent {
  counter += 1;
  return {
    eventId: randomUUID(),
    type: 'ContractTested',
    data: { n: counter, text: `event ${counter}`, nested: { list: [1, 'two', null, true] } },
    metadata: { actorId: 'contract-actor', deviceId: 'device-1', correlationId: randomUUID(), schemaVersion: 1 },
    ...overrides,
  };
}

export const newEvents = (count: number): NewEvent[] => Array.from({ length: count }, () => newEvent());

/** Polls `condition` every 10 ms until it holds; fails with `message` after `timeoutMs`. */
export async function waitFor(condition: () => boolean, message: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for: ${message}`);
    await sleep(10);
  }
}

export interface RecordingSubscriber {
  /** Every event delivered, in delivery order, from any stream. */
  readonly delivered: RecordedEvent[];
  /** The delivered events of this test's streams only. */
  own(): RecordedEvent[];
  readonly errors: unknown[];
  readonly subscription: Subscription;
}

export function recordingSubscriber(
  store: EventStore,
  after: bigint,
  streamPrefix: string,
  options: { batchSize?: number; onBatch?: (events: RecordedEvent[]) => Promise<void> } = {},
): RecordingSubscriber {
  const delivered: RecordedEvent[] = [];
  const errors: unknown[] = [];
  const subscription = store.subscribe({
    after,
    batchSize: options.batchSize,
    onEvents: async (events) => {
      await options.onBatch?.(events);
      delivered.push(...events);
    },
    onError: (error) => errors.push(error),
  });
  return { delivered, errors, subscription, own: () => delivered.filter((e) => e.streamId.startsWith(streamPrefix)) };
}

export const globalPositions = (events: RecordedEvent[]): bigint[] => events.map((e) => e.globalPosition);

export function isStrictlyIncreasing(values: bigint[]): boolean {
  return values.every((value, i) => i === 0 || value > values[i - 1]!);
}
