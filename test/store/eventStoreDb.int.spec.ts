// The EventStoreDB adapter against a real server: the shared contract suite (plus a few
// EventStoreDB-specific checks) when EVENTSTORE_URL points at one, e.g.
//   EVENTSTORE_URL='esdb://localhost:2113?tls=false' npx vitest run test/store/eventStoreDb.int.spec.ts
// No server can be installed on this machine, so without the variable those suites are skipped and
// say so. What needs no server (the real client against a closed port, input checks) always runs.
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config.js';
import { EventTooLargeError, StoreUnavailableError, type EventStore } from '../../src/store/eventStore.js';
import { createEventStoreDbEventStore } from '../../src/store/eventstoredb/esdbEventStore.js';
import { InvalidStoreRequestError } from '../../src/store/memory/requestChecks.js';
import { describeEventStoreContract } from '../contract/eventStoreContract.js';
import { newEvent, newEvents, recordingSubscriber, sleep, uniquePrefix, waitFor } from '../contract/contractFixtures.js';
import { freePort } from '../support/globalSetup.js';

const eventStoreUrl = process.env['EVENTSTORE_URL'];
const SKIPPED = 'SKIPPED: EVENTSTORE_URL is not set (no EventStoreDB server can be installed on this machine)';

if (eventStoreUrl) {
  // Every contract test names its streams with its own unique prefix, so a shared server is fine.
  describeEventStoreContract('eventstoredb', async () => {
    const store = createEventStoreDbEventStore({ connectionString: eventStoreUrl });
    return { store, dispose: () => store.close() };
  });

  describe('EventStoreDB specifics', () => {
    const stores: EventStore[] = [];
    const open = (idempotencyLookback?: number) => {
      const store = createEventStoreDbEventStore({ connectionString: eventStoreUrl, idempotencyLookback });
      stores.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(stores.splice(0).map((store) => store.close()));
    });

    it('deduplicates within the lookback window only (the documented limit)', async () => {
      const store = open(2);
      const streamId = `${uniquePrefix()}-lookback`;
      const original = newEvent();
      await store.append(streamId, [original], 'no_stream');
      await store.append(streamId, newEvents(1), 0);
      expect((await store.append(streamId, [original], 'any')).events[0]!.duplicate).toBe(true);

      await store.append(streamId, newEvents(2), 1);
      const beyondWindow = await store.append(streamId, [original], 'any');
      expect(beyondWindow.events[0]!.duplicate).toBe(false);
      expect(beyondWindow.events[0]!.record.streamPosition).toBe(4);
    });

    it('subscribes from a position that is not a record boundary', async () => {
      const store = open();
      const prefix = uniquePrefix();
      const appended = (await store.append(`${prefix}-odd`, newEvents(3), 'no_stream')).events.map((e) => e.record);
      const subscriber = recordingSubscriber(store, appended[1]!.globalPosition - 1n, prefix);
      await waitFor(() => subscriber.own().length >= 2, 'events from the second on');
      await sleep(100);
      await subscriber.subscription.stop();
      expect(subscriber.own()).toEqual(appended.slice(1));
      expect(subscriber.errors).toEqual([]);
    });

    it('accepts a kurrentdb:// connection string', async () => {
      const store = createEventStoreDbEventStore({ connectionString: eventStoreUrl.replace(/^esdb/, 'kurrentdb') });
      stores.push(store);
      expect(typeof (await store.headPosition())).toBe('bigint');
    });
  });
} else {
  console.warn(`EventStoreDB contract — ${SKIPPED}`);
  describe.skip(`EventStoreDB contract — ${SKIPPED}`, () => {
    it('runs describeEventStoreContract and the EventStoreDB specifics against EVENTSTORE_URL', () => undefined);
  });
}

describe('EventStoreDB adapter without a reachable server', () => {
  let store: EventStore;
  afterEach(async () => {
    await store.close();
  });

  /** A loopback port nothing listens on: the real client gets "connection refused". */
  const unreachable = async () => createEventStoreDbEventStore({ connectionString: `esdb://127.0.0.1:${await freePort()}?tls=false` });

  it('reports every operation as StoreUnavailableError', async () => {
    store = await unreachable();
    await expect(store.append('s-1', [newEvent()], 'any')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.readStream('s-1')).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.readAll({ after: 1234n, maxCount: 10 })).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.headPosition()).rejects.toMatchObject({ code: 'store_unavailable' });
  });

  it('keeps resubscribing with backoff, reporting each failure, until stopped', async () => {
    store = await unreachable();
    const errors: unknown[] = [];
    const subscription = store.subscribe({ after: 0n, onEvents: async () => undefined, onError: (error) => errors.push(error) });
    await waitFor(() => errors.length >= 3, 'three failed attempts reported');
    await subscription.stop();
    const reported = errors.length;
    await sleep(400);
    expect(errors.length).toBe(reported);
    expect(errors.every((error) => error instanceof StoreUnavailableError)).toBe(true);
  });

  it('rejects bad input with a typed error before contacting the server', async () => {
    store = await unreachable();
    await expect(store.append('s-1', [newEvent({ eventId: 'not-a-uuid' })], 'any')).rejects.toBeInstanceOf(InvalidStoreRequestError);
    await expect(store.append('s-1', [newEvent()], -2)).rejects.toBeInstanceOf(InvalidStoreRequestError);
    await expect(store.append('s-1', [newEvent({ data: { blob: 'x'.repeat(1024 * 1024) } })], 'any')).rejects.toBeInstanceOf(
      EventTooLargeError,
    );
    await expect(store.readStream('s-1', { maxCount: -1 })).rejects.toBeInstanceOf(InvalidStoreRequestError);
    await expect(store.readAll({ after: -1n })).rejects.toBeInstanceOf(InvalidStoreRequestError);
    expect(() => store.subscribe({ after: 0n, batchSize: 0, onEvents: async () => undefined })).toThrow(InvalidStoreRequestError);
  });

  it('refuses to work after close()', async () => {
    store = await unreachable();
    await store.close();
    await expect(store.readStream('s-1')).rejects.toThrow(/closed/);
    expect(() => store.subscribe({ after: 0n, onEvents: async () => undefined })).toThrow(StoreUnavailableError);
  });

  it('rejects a malformed connection string or option as a configuration error', () => {
    expect(() => createEventStoreDbEventStore({ connectionString: 'postgres://nope' })).toThrow(ConfigError);
    expect(() => createEventStoreDbEventStore({ connectionString: 'esdb://localhost:2113', idempotencyLookback: -1 })).toThrow(ConfigError);
    store = createEventStoreDbEventStore({ connectionString: 'kurrentdb://localhost:2113?tls=false' });
  });
});
