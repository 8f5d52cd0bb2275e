// The contract every EventStore adapter passes (memory, PostgreSQL, EventStoreDB): one suite, run by
// each adapter's spec file. It is store-agnostic on purpose: no SQL, only the port. Tests use stream
// names unique to the test and positions relative to the head at the test's start, so a subject may
// share its storage with other tests and writers.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  EventIdConflictError,
  EventTooLargeError,
  MAX_EVENT_BYTES,
  WrongExpectedRevisionError,
  type AppendResult,
  type EventStore,
  type ExpectedRevision,
  type NewEvent,
  type RecordedEvent,
} from '../../src/store/eventStore.js';
import {
  globalPositions,
  isStrictlyIncreasing,
  newEvent,
  newEvents,
  recordingSubscriber,
  sleep,
  uniquePrefix,
  waitFor,
} from './contractFixtures.js';

export interface ContractSubject {
  store: EventStore;
  dispose(): Promise<void>;
  /** optional: start an append whose transaction stays open until commit() is called */
  holdOpenAppend?: (streamId: string, events: NewEvent[]) => Promise<{ commit(): Promise<void> }>;
}

const records = (result: AppendResult): RecordedEvent[] => result.events.map((e) => e.record);

/** Appends `count` events one at a time with an exact expected revision, retrying on conflict. */
async function appendWithRetry(store: EventStore, streamId: string, count: number): Promise<number> {
  let conflicts = 0;
  for (let appended = 0; appended < count; ) {
    const head = (await store.readStream(streamId, { direction: 'backwards', maxCount: 1 }))[0]?.streamPosition ?? -1;
    try {
      await store.append(streamId, [newEvent()], head);
      appended += 1;
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError) || ++conflicts > 500) throw error;
    }
  }
  return conflicts;
}

export function describeEventStoreContract(name: string, setup: () => Promise<ContractSubject>): void {
  describe(`EventStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: EventStore;
    let prefix: string;

    beforeEach(async () => {
      subject = await setup();
      store = subject.store;
      prefix = uniquePrefix();
    });
    afterEach(async () => {
      await subject.dispose();
    });

    const own = (events: RecordedEvent[]): RecordedEvent[] => events.filter((e) => e.streamId.startsWith(prefix));

    describe('append and read', () => {
      it('stores the full envelope and reads it back unchanged', async () => {
        const streamId = `${prefix}-roundtrip`;
        const before = Date.now();
        const input = [newEvent({ type: 'First' }), newEvent({ type: 'Second', data: { unicode: 'héllo ✓ 你好', n: 1.5 } })];
        const result = await store.append(streamId, input, 'no_stream');

        expect(result.nextExpectedRevision).toBe(1);
        expect(result.events.map((e) => e.duplicate)).toEqual([false, false]);
        const [first, second] = records(result);
        expect(first).toMatchObject({ eventId: input[0]!.eventId, type: 'First', streamId, streamPosition: 0 });
        expect(second).toMatchObject({ eventId: input[1]!.eventId, type: 'Second', streamId, streamPosition: 1 });
        expect(first!.data).toEqual(input[0]!.data);
        expect(second!.data).toEqual(input[1]!.data);
        expect(first!.metadata).toEqual(input[0]!.metadata);
        expect(typeof first!.globalPosition).toBe('bigint');
        expect(first!.globalPosition).toBeGreaterThan(0n);
        expect(second!.globalPosition).toBeGreaterThan(first!.globalPosition);
        expect(first!.recordedAt).toBeInstanceOf(Date);
        expect(first!.recordedAt.getTime()).toBeGreaterThanOrEqual(before - 5_000);
        expect(first!.recordedAt.getTime()).toBeLessThanOrEqual(Date.now() + 5_000);

        expect(await store.readStream(streamId)).toEqual(records(result));
        const page = await store.readAll({ after: first!.globalPosition - 1n });
        expect(own(page.events)).toEqual(records(result));
      });

      it('reads an unknown stream as empty', async () => {
        expect(await store.readStream(`${prefix}-missing`)).toEqual([]);
        expect(await store.readStream(`${prefix}-missing`, { direction: 'backwards' })).toEqual([]);
      });

      it('reads forwards and backwards from a position, in pages', async () => {
        const streamId = `${prefix}-paging`;
        await store.append(streamId, newEvents(10), 'no_stream');
        const positions = (events: RecordedEvent[]) => events.map((e) => e.streamPosition);

        expect(positions(await store.readStream(streamId))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect(positions(await store.readStream(streamId, { fromPosition: 3, maxCount: 4 }))).toEqual([3, 4, 5, 6]);
        expect(positions(await store.readStream(streamId, { direction: 'backwards' }))).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
        expect(positions(await store.readStream(streamId, { direction: 'backwards', fromPosition: 5, maxCount: 3 }))).toEqual([5, 4, 3]);
        expect(positions(await store.readStream(streamId, { direction: 'backwards', maxCount: 2 }))).toEqual([9, 8]);
        expect(positions(await store.readStream(streamId, { fromPosition: 10 }))).toEqual([]);
        expect(positions(await store.readStream(streamId, { direction: 'backwards', fromPosition: 50, maxCount: 1 }))).toEqual([9]);

        const pages: number[][] = [];
        for (let from = 0; ; from += 4) {
          const page = await store.readStream(streamId, { fromPosition: from, maxCount: 4 });
          if (page.length === 0) break;
          pages.push(positions(page));
        }
        expect(pages).toEqual([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
      });

      it('pages through the global order and reports the head position', async () => {
        const start = await store.headPosition();
        const a = await store.append(`${prefix}-a`, newEvents(3), 'no_stream');
        const b = await store.append(`${prefix}-b`, newEvents(2), 'no_stream');
        const appended = [...records(a), ...records(b)];
        const last = appended.at(-1)!.globalPosition;

        const head = await store.headPosition();
        expect(head).toBeGreaterThanOrEqual(last);
        expect(start).toBeLessThan(appended[0]!.globalPosition);

        const seen: RecordedEvent[] = [];
        let after = start;
        for (let pages = 0; after < last; pages++) {
          expect(pages).toBeLessThan(1_000);
          const page = await store.readAll({ after, maxCount: 2 });
          expect(page.events.length).toBeLessThanOrEqual(2);
          expect(page.events.length).toBeGreaterThan(0);
          expect(page.lastPosition).toBe(page.events.at(-1)!.globalPosition);
          expect(isStrictlyIncreasing([after, ...globalPositions(page.events)])).toBe(true);
          seen.push(...page.events);
          after = page.lastPosition;
        }
        expect(own(seen)).toEqual(appended);

        const tail = await store.readAll({ after: head });
        expect(own(tail.events)).toEqual([]);
        if (tail.events.length === 0) expect(tail.lastPosition).toBe(head);
      });
    });

    describe('expected revision', () => {
      const expectWrongRevision = async (promise: Promise<unknown>, streamId: string, expected: ExpectedRevision, actual: number) => {
        const error = await promise.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toMatchObject({ code: 'wrong_expected_revision', streamId, expected, actual });
      };

      it('checks no_stream, stream_exists, exact revisions and any', async () => {
        const streamId = `${prefix}-revisions`;
        await expectWrongRevision(store.append(streamId, [newEvent()], 'stream_exists'), streamId, 'stream_exists', -1);
        await expectWrongRevision(store.append(streamId, [newEvent()], 0), streamId, 0, -1);
        expect(await store.readStream(streamId)).toEqual([]);

        expect((await store.append(streamId, [newEvent()], -1)).nextExpectedRevision).toBe(0);
        await expectWrongRevision(store.append(streamId, [newEvent()], 'no_stream'), streamId, 'no_stream', 0);
        await expectWrongRevision(store.append(streamId, [newEvent()], -1), streamId, -1, 0);
        await expectWrongRevision(store.append(streamId, [newEvent()], 1), streamId, 1, 0);

        expect((await store.append(streamId, newEvents(2), 0)).nextExpectedRevision).toBe(2);
        expect((await store.append(streamId, [newEvent()], 'stream_exists')).nextExpectedRevision).toBe(3);
        expect((await store.append(streamId, [newEvent()], 'any')).nextExpectedRevision).toBe(4);
        expect((await store.append(`${prefix}-fresh`, [newEvent()], 'any')).nextExpectedRevision).toBe(0);
        expect((await store.append(`${prefix}-created`, [newEvent()], 'no_stream')).nextExpectedRevision).toBe(0);
        await expectWrongRevision(store.append(streamId, [newEvent()], 3), streamId, 3, 4);

        const stream = await store.readStream(streamId);
        expect(stream.map((e) => e.streamPosition)).toEqual([0, 1, 2, 3, 4]);
      });

      it('lets exactly one of 20 concurrent appenders at the same revision win', async () => {
        const streamId = `${prefix}-race`;
        await store.append(streamId, [newEvent()], 'no_stream');
        const attempts = await Promise.allSettled(Array.from({ length: 20 }, () => store.append(streamId, newEvents(2), 0)));

        const winners = attempts.filter((a) => a.status === 'fulfilled');
        const losers = attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected');
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(19);
        for (const loser of losers) {
          expect(loser.reason).toBeInstanceOf(WrongExpectedRevisionError);
          expect(loser.reason).toMatchObject({ expected: 0, actual: 2 });
        }
        expect((await store.readStream(streamId)).map((e) => e.streamPosition)).toEqual([0, 1, 2]);
      });

      it('lets exactly one of 20 concurrent creators of a stream win', async () => {
        const streamId = `${prefix}-create-race`;
        const attempts = await Promise.allSettled(Array.from({ length: 20 }, () => store.append(streamId, [newEvent()], 'no_stream')));
        expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
        for (const attempt of attempts) {
          if (attempt.status === 'rejected') expect(attempt.reason).toBeInstanceOf(WrongExpectedRevisionError);
        }
        expect(await store.readStream(streamId)).toHaveLength(1);
      });

      it('keeps stream positions gapless when writers retry on conflict', async () => {
        const streamId = `${prefix}-retry`;
        await Promise.all(Array.from({ length: 6 }, () => appendWithRetry(store, streamId, 5)));
        const stream = await store.readStream(streamId);
        expect(stream.map((e) => e.streamPosition)).toEqual(Array.from({ length: 30 }, (_, i) => i));
        expect(isStrictlyIncreasing(globalPositions(stream))).toBe(true);
      });
    });

    describe('idempotency', () => {
      it('answers a re-append with the stored records, consuming no revision, even with a stale revision', async () => {
        const streamId = `${prefix}-idem`;
        const input = newEvents(2);
        const first = await store.append(streamId, input, 'no_stream');
        await store.append(streamId, [newEvent()], 1);

        const again = await store.append(streamId, input, 'no_stream');
        expect(again.events.map((e) => e.duplicate)).toEqual([true, true]);
        expect(records(again)).toEqual(records(first));
        expect(again.nextExpectedRevision).toBe(2);

        const againExact = await store.append(streamId, input, 0);
        expect(records(againExact)).toEqual(records(first));
        expect(await store.readStream(streamId)).toHaveLength(3);
      });

      it('appends only the new events of a mixed batch, after the head, checking the revision', async () => {
        const streamId = `${prefix}-mixed`;
        const [a, b, c] = newEvents(3);
        const first = await store.append(streamId, [a!, b!], 'no_stream');

        await expect(store.append(streamId, [b!, c!], 'no_stream')).rejects.toBeInstanceOf(WrongExpectedRevisionError);
        await expect(store.append(streamId, [b!, c!], 0)).rejects.toBeInstanceOf(WrongExpectedRevisionError);
        expect(await store.readStream(streamId)).toHaveLength(2);

        const mixed = await store.append(streamId, [b!, c!], 1);
        expect(mixed.events.map((e) => e.duplicate)).toEqual([true, false]);
        expect(mixed.events[0]!.record).toEqual(records(first)[1]);
        expect(mixed.events[1]!.record).toMatchObject({ eventId: c!.eventId, streamPosition: 2 });
        expect(mixed.nextExpectedRevision).toBe(2);
        expect((await store.readStream(streamId)).map((e) => e.eventId)).toEqual([a!.eventId, b!.eventId, c!.eventId]);
      });

      it('rejects an event id stored in another stream, and a repeated id within one append', async () => {
        const event = newEvent();
        await store.append(`${prefix}-owner`, [event], 'no_stream');

        const elsewhere = store.append(`${prefix}-other`, [newEvent(), event], 'any');
        await expect(elsewhere).rejects.toBeInstanceOf(EventIdConflictError);
        await expect(elsewhere).rejects.toMatchObject({ code: 'event_id_conflict', eventId: event.eventId, storedStreamId: `${prefix}-owner` });
        expect(await store.readStream(`${prefix}-other`)).toEqual([]);

        const twice = newEvent();
        await expect(store.append(`${prefix}-twice`, [twice, newEvent(), twice], 'any')).rejects.toBeInstanceOf(EventIdConflictError);
        expect(await store.readStream(`${prefix}-twice`)).toEqual([]);
      });

      it('stores a concurrently retried event once', async () => {
        const streamId = `${prefix}-storm`;
        const event = newEvent();
        const results = await Promise.all(Array.from({ length: 10 }, () => store.append(streamId, [event], 'any')));
        expect(results.filter((r) => !r.events[0]!.duplicate)).toHaveLength(1);
        for (const result of results) expect(result.events[0]!.record).toEqual(results[0]!.events[0]!.record);
        expect(await store.readStream(streamId)).toHaveLength(1);
      });

      it('lets one of several streams racing for the same event id keep it', async () => {
        const event = newEvent();
        const attempts = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => store.append(`${prefix}-claim-${i}`, [event], 'any')));
        const winners = attempts.flatMap((a, i) => (a.status === 'fulfilled' ? [i] : []));
        expect(winners).toHaveLength(1);
        for (const attempt of attempts) {
          if (attempt.status === 'rejected') {
            expect(attempt.reason).toBeInstanceOf(EventIdConflictError);
            expect(attempt.reason).toMatchObject({ storedStreamId: `${prefix}-claim-${winners[0]}` });
          }
        }
      });
    });

    describe('limits and bad input', () => {
      it('rejects an event larger than MAX_EVENT_BYTES and appends nothing of its batch', async () => {
        const streamId = `${prefix}-large`;
        const large = newEvent({ data: { blob: 'x'.repeat(MAX_EVENT_BYTES) } });
        const failure = store.append(streamId, [newEvent(), large], 'any');
        await expect(failure).rejects.toBeInstanceOf(EventTooLargeError);
        await expect(failure).rejects.toMatchObject({ code: 'event_too_large', eventId: large.eventId, limit: MAX_EVENT_BYTES });
        expect(await store.readStream(streamId)).toEqual([]);

        const nearLimit = newEvent({ data: { blob: 'y'.repeat(MAX_EVENT_BYTES - 1_024) } });
        const stored = await store.append(streamId, [nearLimit], 'no_stream');
        expect((await store.readStream(streamId))[0]!.data).toEqual(nearLimit.data);
        expect(stored.nextExpectedRevision).toBe(0);
      });

      it('rejects a malformed event id with a coded error and appends nothing', async () => {
        const streamId = `${prefix}-bad-id`;
        const failure = store.append(streamId, [newEvent(), newEvent({ eventId: 'not-a-uuid' })], 'any');
        await expect(failure).rejects.toMatchObject({ code: expect.any(String) });
        expect(await store.readStream(streamId)).toEqual([]);
      });
    });

    describe('subscriptions', () => {
      it('delivers every event of concurrent writers exactly once, in global and stream order', async () => {
        const start = await store.headPosition();
        const subscriber = recordingSubscriber(store, start, prefix, { batchSize: 37 });
        const writers = 8;
        const perWriter = 50;
        const appended: RecordedEvent[] = [];
        await Promise.all(
          Array.from({ length: writers }, async (_, w) => {
            const streamId = `${prefix}-writer-${w}`;
            for (let written = 0; written < perWriter; ) {
              const size = Math.min(perWriter - written, 1 + ((w + written) % 3));
              const result = await store.append(streamId, newEvents(size), written - 1);
              appended.push(...records(result));
              written += size;
            }
          }),
        );
        await waitFor(() => subscriber.own().length >= writers * perWriter, 'all appended events delivered', 20_000);
        await sleep(50);
        await subscriber.subscription.stop();

        const delivered = subscriber.own();
        expect(delivered).toHaveLength(writers * perWriter);
        expect(new Set(delivered.map((e) => e.eventId)).size).toBe(writers * perWriter);
        expect(isStrictlyIncreasing(globalPositions(subscriber.delivered))).toBe(true);
        expect(subscriber.delivered.every((e) => e.globalPosition > start)).toBe(true);
        for (let w = 0; w < writers; w++) {
          const stream = delivered.filter((e) => e.streamId === `${prefix}-writer-${w}`);
          expect(stream.map((e) => e.streamPosition)).toEqual(Array.from({ length: perWriter }, (_, i) => i));
        }
        const byId = new Map(appended.map((e) => [e.eventId, e]));
        for (const event of delivered) expect(event).toEqual(byId.get(event.eventId));
        expect(subscriber.errors).toEqual([]);
      });

      it('delivers an append held open in a slow transaction before anything after it, exactly once', async (ctx) => {
        if (!subject.holdOpenAppend) return ctx.skip('this store has no client-visible transaction to hold open');
        const start = await store.headPosition();
        const subscriber = recordingSubscriber(store, start, prefix);
        const held = await subject.holdOpenAppend(`${prefix}-held`, [newEvent()]);
        const later = [...records(await store.append(`${prefix}-later-1`, [newEvent()], 'any')), ...records(await store.append(`${prefix}-later-2`, newEvents(2), 'any'))];

        // Several wake-ups and poll rounds pass while the held append is open: nothing after it may show.
        await sleep(700);
        expect(subscriber.own()).toEqual([]);
        expect(own((await store.readAll({ after: start })).events)).toEqual([]);
        expect(await store.headPosition()).toBeLessThan(later[0]!.globalPosition);

        await held.commit();
        await waitFor(() => subscriber.own().length >= 4, 'held and later events delivered');
        await sleep(100);
        await subscriber.subscription.stop();

        const delivered = subscriber.own();
        expect(delivered.map((e) => e.streamId)).toEqual([`${prefix}-held`, `${prefix}-later-1`, `${prefix}-later-2`, `${prefix}-later-2`]);
        expect(delivered.slice(1)).toEqual(later);
        expect(delivered[0]!.globalPosition).toBeLessThan(later[0]!.globalPosition);
        expect(isStrictlyIncreasing(globalPositions(subscriber.delivered))).toBe(true);
      });

      it('starts after a checkpoint in the middle of the log', async () => {
        const appended = records(await store.append(`${prefix}-checkpoint`, newEvents(6), 'no_stream'));
        const subscriber = recordingSubscriber(store, appended[2]!.globalPosition, prefix, { batchSize: 2 });
        await waitFor(() => subscriber.own().length >= 3, 'events after the checkpoint delivered');
        await sleep(100);
        await subscriber.subscription.stop();
        expect(subscriber.own()).toEqual(appended.slice(3));
        expect(subscriber.delivered.every((e) => e.globalPosition > appended[2]!.globalPosition)).toBe(true);
      });

      it('wakes a caught-up subscriber when a new event is appended', async () => {
        const subscriber = recordingSubscriber(store, await store.headPosition(), prefix);
        await sleep(100);
        const [appended] = records(await store.append(`${prefix}-wake`, [newEvent()], 'any'));
        await waitFor(() => subscriber.own().length === 1, 'the new event delivered', 5_000);
        await subscriber.subscription.stop();
        expect(subscriber.own()).toEqual([appended]);
      });

      it('reports a failing batch to onError and redelivers it, skipping nothing', async () => {
        const start = await store.headPosition();
        let failed = false;
        const failure = new Error('projection failed once');
        const subscriber = recordingSubscriber(store, start, prefix, {
          batchSize: 3,
          onBatch: async (events) => {
            // The second batch of this test's events fails once; the subscriber must retry it.
            if (!failed && own(events).some((e) => e.streamPosition >= 3)) {
              failed = true;
              throw failure;
            }
          },
        });
        const appended = records(await store.append(`${prefix}-retry`, newEvents(8), 'no_stream'));
        await waitFor(() => subscriber.own().length >= 8, 'all events delivered after the failure');
        await sleep(100);
        await subscriber.subscription.stop();
        expect(subscriber.own()).toEqual(appended);
        expect(isStrictlyIncreasing(globalPositions(subscriber.delivered))).toBe(true);
        expect(failed).toBe(true);
        expect(subscriber.errors).toContain(failure);
      });

      it('stops after the in-flight batch and delivers nothing afterwards', async () => {
        let inFlight = false;
        let finished = false;
        const subscriber = recordingSubscriber(store, await store.headPosition(), prefix, {
          onBatch: async (events) => {
            if (own(events).length === 0) return;
            inFlight = true;
            await sleep(200);
            finished = true;
          },
        });
        await store.append(`${prefix}-stop`, [newEvent()], 'any');
        await waitFor(() => inFlight, 'the batch is in flight');
        await subscriber.subscription.stop();
        expect(finished).toBe(true);

        const count = subscriber.delivered.length;
        await store.append(`${prefix}-stop`, [newEvent()], 'any');
        await sleep(400);
        expect(subscriber.delivered.length).toBe(count);
      });
    });
  });
}
