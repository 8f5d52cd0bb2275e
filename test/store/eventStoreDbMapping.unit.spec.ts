// The EventStoreDB adapter's logic that runs without a server: the pure mapping to and from the
// client's shapes, error mapping (with the client's real error classes), the per-stream serializer,
// the batcher, and the resubscribe loop driven by a scripted feed standing in for the server (no
// EventStoreDB can be installed here; the live behaviour is covered by eventStoreDb.int.spec.ts).
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ANY,
  AccessDeniedError,
  END,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  UnavailableError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import {
  EventTooLargeError,
  StoreUnavailableError,
  WrongExpectedRevisionError,
  type RecordedEvent,
} from '../../src/store/eventStore.js';
import { prepareAppend } from '../../src/store/memory/requestChecks.js';
import { batchByCountOrIdle } from '../../src/store/eventstoredb/batchByCountOrIdle.js';
import { appendTooLarge, isTransportFailure, toStoreError } from '../../src/store/eventstoredb/esdbErrors.js';
import {
  appendResultOf,
  canPinToHead,
  commitPositionOf,
  comparePositions,
  expectedRevisionForServer,
  headFromCurrentRevision,
  isSystemEvent,
  normalizeConnectionString,
  readStartAfter,
  streamReadRequest,
  toEventData,
  toRecordedEvent,
  userEventsAfter,
  type EsdbResolvedEvent,
} from '../../src/store/eventstoredb/esdbMapping.js';
import { followAllStream, type FeedSource } from '../../src/store/eventstoredb/esdbSubscription.js';
import { createKeyedSerializer } from '../../src/store/eventstoredb/keyedSerializer.js';
import { newEvent, sleep, waitFor } from '../contract/contractFixtures.js';

const metadata = { actorId: 'user-1', deviceId: 'd1', correlationId: 'c1', schemaVersion: 1 };

/** A record as the client hands it over from $all: commit and prepare positions equal (gRPC writes). */
function resolved(commit: bigint, overrides: { streamId?: string; type?: string; revision?: bigint } = {}): EsdbResolvedEvent {
  return {
    event: {
      streamId: overrides.streamId ?? 'conversation-1',
      id: randomUUID(),
      revision: overrides.revision ?? 0n,
      type: overrides.type ?? 'MessageSent',
      created: new Date('2025-01-02T03:04:05.678Z'),
      data: { text: `at ${commit}` },
      metadata,
      position: { commit, prepare: commit },
    },
    commitPosition: commit,
  };
}

describe('expected revision mapping', () => {
  it('maps each port expectation to the client value, pinning loose ones to the observed head on request', () => {
    expect(expectedRevisionForServer('any', 4, false)).toBe(ANY);
    expect(expectedRevisionForServer('any', 4, true)).toBe(4n);
    expect(expectedRevisionForServer('any', -1, true)).toBe(NO_STREAM);
    expect(expectedRevisionForServer('stream_exists', 4, false)).toBe(STREAM_EXISTS);
    expect(expectedRevisionForServer('stream_exists', 4, true)).toBe(4n);
    expect(expectedRevisionForServer('stream_exists', -1, true)).toBe(STREAM_EXISTS);
    expect(expectedRevisionForServer('no_stream', 7, true)).toBe(NO_STREAM);
    expect(expectedRevisionForServer(-1, 7, true)).toBe(NO_STREAM);
    expect(expectedRevisionForServer(0, 7, true)).toBe(0n);
    expect(expectedRevisionForServer(2 ** 40, 7, false)).toBe(2n ** 40n);
  });

  it('pins only what stays equivalent: any always, stream_exists once the stream exists, exact never', () => {
    expect(canPinToHead('any', -1)).toBe(true);
    expect(canPinToHead('stream_exists', 0)).toBe(true);
    expect(canPinToHead('stream_exists', -1)).toBe(false);
    expect(canPinToHead('no_stream', -1)).toBe(false);
    expect(canPinToHead(3, 3)).toBe(false);
  });

  it("reads the client's current revision as our head (-1 for no stream)", () => {
    expect(headFromCurrentRevision(NO_STREAM)).toBe(-1);
    expect(headFromCurrentRevision(12n)).toBe(12);
    expect(headFromCurrentRevision(undefined)).toBeUndefined();
    const error = new WrongExpectedVersionError(undefined, { streamName: 's', expected: 0n, current: 2n });
    expect(headFromCurrentRevision(error.actualVersion)).toBe(2);
  });
});

describe('positions', () => {
  it('starts a read of "after 0" at the start of the log and any other at that exact position', () => {
    expect(readStartAfter(0n)).toBe(START);
    expect(readStartAfter(1234n)).toEqual({ commit: 1234n, prepare: 1234n });
  });

  it('orders positions by commit, then prepare', () => {
    expect(comparePositions({ commit: 1n, prepare: 9n }, { commit: 2n, prepare: 0n })).toBeLessThan(0);
    expect(comparePositions({ commit: 2n, prepare: 3n }, { commit: 2n, prepare: 1n })).toBeGreaterThan(0);
    expect(comparePositions({ commit: 2n, prepare: 2n }, { commit: 2n, prepare: 2n })).toBe(0);
  });

  it('takes the commit position, ignoring the "unknown" values older servers send on stream reads', () => {
    expect(commitPositionOf(resolved(500n))).toBe(500n);
    const unknown = resolved(0n);
    unknown.event!.position = { commit: 0xffff_ffff_ffff_ffffn, prepare: 0xffff_ffff_ffff_ffffn };
    unknown.commitPosition = 777n;
    expect(commitPositionOf(unknown)).toBe(777n);
    expect(commitPositionOf({ event: { ...resolved(1n).event!, position: { commit: 0n, prepare: 0n } } })).toBeUndefined();
  });

  it('keeps only non-system events strictly after the position, in order', () => {
    const batch = [
      resolved(100n),
      resolved(200n),
      resolved(250n, { type: '$metadata', streamId: '$$conversation-1' }),
      resolved(260n, { type: '$>' }),
      resolved(270n, { streamId: '$stats-127.0.0.1:2113', type: 'StatsCollected' }),
      { commitPosition: 280n },
      resolved(300n),
    ];
    expect(userEventsAfter(batch, 100n).map((e) => e.globalPosition)).toEqual([200n, 300n]);
    expect(userEventsAfter(batch, 0n).map((e) => e.globalPosition)).toEqual([100n, 200n, 300n]);
    expect(userEventsAfter(batch, 300n)).toEqual([]);
  });

  it('treats $-types and $-streams as system events', () => {
    expect(isSystemEvent({ type: '$>', streamId: '$ce-conversation' })).toBe(true);
    expect(isSystemEvent({ type: 'Anything', streamId: '$settings' })).toBe(true);
    expect(isSystemEvent({ type: 'MessageSent', streamId: 'conversation-1' })).toBe(false);
  });
});

describe('event conversion', () => {
  it('maps a client event to the port envelope', () => {
    const input = resolved(4242n, { revision: 6n });
    expect(toRecordedEvent(input)).toEqual({
      eventId: input.event!.id,
      type: 'MessageSent',
      streamId: 'conversation-1',
      streamPosition: 6,
      globalPosition: 4242n,
      recordedAt: new Date('2025-01-02T03:04:05.678Z'),
      data: { text: 'at 4242' },
      metadata,
    });
  });

  it('marks metadata not written by Missive as foreign rather than failing', () => {
    for (const foreign of [undefined, new Uint8Array([1, 2]), 'text', [1]]) {
      const input = resolved(10n);
      input.event!.metadata = foreign;
      expect(toRecordedEvent(input).metadata).toEqual({ actorId: '', schemaVersion: 0 });
    }
  });

  it('refuses a record without a usable position or without an event, with StoreUnavailableError', () => {
    const noPosition = resolved(10n);
    delete noPosition.event!.position;
    delete noPosition.commitPosition;
    expect(() => toRecordedEvent(noPosition)).toThrow(StoreUnavailableError);
    expect(() => toRecordedEvent({ commitPosition: 5n })).toThrow(StoreUnavailableError);
  });

  it('round-trips any JSON data and the metadata through the client JSON event and back', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.nat(), (data, revision) => {
        const [prepared] = prepareAppend('s', [newEvent({ data })], 'any', 1024 * 1024);
        const sent = toEventData(prepared!);
        expect(sent).toMatchObject({ id: prepared!.event.eventId, type: 'ContractTested', contentType: 'application/json' });
        // What the server stores is the JSON text the client sends; what it returns is that text parsed.
        const stored: EsdbResolvedEvent = {
          event: {
            streamId: 's',
            id: sent.id,
            revision: BigInt(revision),
            type: sent.type,
            created: new Date(),
            data: JSON.parse(JSON.stringify(sent.data)) as unknown,
            metadata: JSON.parse(JSON.stringify(sent.metadata)) as unknown,
            position: { commit: 99n, prepare: 99n },
          },
        };
        const record = toRecordedEvent(stored);
        expect(record.data).toEqual(JSON.parse(prepared!.dataJson));
        expect(record.metadata).toEqual(prepared!.event.metadata);
        expect(record.streamPosition).toBe(revision);
      }),
      { numRuns: 200 },
    );
  });

  it('assembles an append result in request order, duplicates as stored', () => {
    const stored = toRecordedEvent(resolved(10n, { revision: 0n }));
    const fresh = toRecordedEvent(resolved(20n, { revision: 1n }));
    const result = appendResultOf([fresh.eventId, stored.eventId], new Map([[stored.eventId, stored]]), new Map([[fresh.eventId, fresh]]), 1);
    expect(result).toEqual({
      nextExpectedRevision: 1,
      events: [
        { record: fresh, duplicate: false },
        { record: stored, duplicate: true },
      ],
    });
    expect(() => appendResultOf(['missing'], new Map(), new Map(), 0)).toThrow(StoreUnavailableError);
  });
});

describe('stream read requests', () => {
  it('maps port options to client reads, with defaults per direction', () => {
    expect(streamReadRequest({})).toEqual({ direction: 'forwards', fromRevision: START });
    expect(streamReadRequest({ direction: 'backwards' })).toEqual({ direction: 'backwards', fromRevision: END });
    expect(streamReadRequest({ direction: 'backwards', fromPosition: 5, maxCount: 3 })).toEqual({ direction: 'backwards', fromRevision: 5n, maxCount: 3 });
    expect(streamReadRequest({ fromPosition: 0, maxCount: 0 })).toBeUndefined();
  });
});

describe('connection strings', () => {
  it('accepts KurrentDB schemes as the esdb schemes this client understands', () => {
    expect(normalizeConnectionString('kurrentdb://localhost:2113?tls=false')).toBe('esdb://localhost:2113?tls=false');
    expect(normalizeConnectionString(' kurrentdb+discover://a:2113,b:2113 ')).toBe('esdb+discover://a:2113,b:2113');
    expect(normalizeConnectionString('kdb://h:1')).toBe('esdb://h:1');
    expect(normalizeConnectionString('esdb://admin:changeit@h:2113')).toBe('esdb://admin:changeit@h:2113');
  });
});

describe('error mapping', () => {
  const rawUnavailable = () =>
    Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14, details: 'No connection established' });

  it('turns connection failures (client classes, raw gRPC errors, discovery) into StoreUnavailableError', () => {
    for (const failure of [new UnavailableError(), rawUnavailable(), new Error('Failed to discover after 10 attempts.')]) {
      expect(isTransportFailure(failure)).toBe(true);
      const mapped = toStoreError(failure, 'read of $all');
      expect(mapped).toBeInstanceOf(StoreUnavailableError);
      expect(mapped).toMatchObject({ code: 'store_unavailable', message: expect.stringContaining('read of $all') });
    }
  });

  it('reports other client errors as StoreUnavailableError too, but not as transport failures', () => {
    const denied = new AccessDeniedError();
    expect(isTransportFailure(denied)).toBe(false);
    expect(toStoreError(denied, 'append')).toBeInstanceOf(StoreUnavailableError);
  });

  it("passes the port's own errors and a subscriber's exceptions through unchanged", () => {
    const conflict = new WrongExpectedRevisionError('s', 0, 3);
    const handlerFailure = new Error('projection failed');
    expect(toStoreError(conflict, 'append')).toBe(conflict);
    expect(toStoreError(handlerFailure, 'subscription')).toBe(handlerFailure);
    expect(isTransportFailure(handlerFailure)).toBe(false);
  });

  it('reports a server MaxAppendSize refusal against the largest event, with the batch size', () => {
    const events = [newEvent({ data: { a: 'x' } }), newEvent({ data: { a: 'y'.repeat(500) } })];
    const prepared = prepareAppend('s', events, 'any', 1024 * 1024);
    const error = appendTooLarge(prepared, 400);
    expect(error).toBeInstanceOf(EventTooLargeError);
    expect(error).toMatchObject({ eventId: events[1]!.eventId, limit: 400 });
    expect(error.bytes).toBeGreaterThan(500);
  });
});

describe('keyed serializer', () => {
  it('runs tasks of one key one at a time in call order, other keys in parallel, past failures', async () => {
    const serialize = createKeyedSerializer();
    const log: string[] = [];
    const task = (name: string, ms: number, fail = false) => async () => {
      log.push(`start ${name}`);
      await sleep(ms);
      log.push(`end ${name}`);
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([
      serialize('a', task('a1', 30, true)),
      serialize('a', task('a2', 5)),
      serialize('b', task('b1', 5)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    expect(log.indexOf('start a2')).toBeGreaterThan(log.indexOf('end a1'));
    expect(log.indexOf('end b1')).toBeLessThan(log.indexOf('end a1'));
  });
});

describe('batching by count or idle', () => {
  const never = new Promise<void>(() => undefined);

  it('yields full batches at once, a partial one after the idle time, and the rest at the end', async () => {
    const source = new PassThrough({ objectMode: true });
    const batches: number[][] = [];
    const consuming = (async () => {
      for await (const batch of batchByCountOrIdle<number>(source, { maxSize: 3, idleMs: 20, until: never })) batches.push(batch);
    })();
    for (const n of [1, 2, 3, 4]) source.write(n);
    await waitFor(() => batches.length === 2, 'a full and an idle batch', 2_000);
    expect(batches).toEqual([[1, 2, 3], [4]]);
    source.write(5);
    source.end();
    await consuming;
    expect(batches).toEqual([[1, 2, 3], [4], [5]]);
  });

  it('stops at once when asked, dropping a partial batch, even while the source is silent', async () => {
    const source = new PassThrough({ objectMode: true });
    let stop!: () => void;
    const until = new Promise<void>((resolve) => (stop = resolve));
    const batches: number[][] = [];
    const consuming = (async () => {
      for await (const batch of batchByCountOrIdle<number>(source, { maxSize: 10, idleMs: 1_000, until })) batches.push(batch);
    })();
    source.write(1);
    await sleep(20);
    stop();
    await consuming;
    expect(batches).toEqual([]);
    source.destroy();
  });
});

/** A stand-in for the server's $all subscription: replays a log from a position, then pushes live. */
function scriptedServer() {
  const log: EsdbResolvedEvent[] = [];
  const feeds = new Set<PassThrough>();
  const opens: bigint[] = [];
  const source: FeedSource = {
    async open(after) {
      opens.push(after);
      const feed = new PassThrough({ objectMode: true });
      // Inclusive of `after`, as a server may be: the subscriber must drop what it already has.
      for (const record of log) if (record.commitPosition! >= after) feed.write(record);
      feeds.add(feed);
      return {
        events: feed,
        close: async () => {
          feeds.delete(feed);
          feed.destroy();
        },
      };
    },
  };
  return {
    source,
    opens,
    append(count: number, options: { type?: string; streamId?: string } = {}): void {
      for (let i = 0; i < count; i++) {
        const record = resolved(BigInt(log.length + 1) * 100n, options);
        log.push(record);
        for (const feed of feeds) feed.write(record);
      }
    },
    /** Drops every open subscription, as a server restart or network failure does. */
    drop(): void {
      for (const feed of feeds) feed.destroy(new UnavailableError());
    },
  };
}

function recorder() {
  const delivered: RecordedEvent[][] = [];
  const errors: unknown[] = [];
  let inFlight = 0;
  let overlapped = false;
  return {
    delivered,
    errors,
    overlapped: () => overlapped,
    flat: () => delivered.flat(),
    onError: (error: unknown) => errors.push(error),
    onEvents: async (events: RecordedEvent[]) => {
      inFlight += 1;
      if (inFlight > 1) overlapped = true;
      await sleep(2);
      delivered.push(events);
      inFlight -= 1;
    },
  };
}

describe('the resubscribing $all feed (scripted server)', () => {
  it('delivers after the checkpoint, in batches of at most batchSize, one batch at a time, without system events', async () => {
    const server = scriptedServer();
    server.append(5);
    server.append(2, { type: '$metadata', streamId: '$$conversation-1' });
    server.append(20);
    const r = recorder();
    const subscription = followAllStream(server.source, { after: 300n, batchSize: 4, onEvents: r.onEvents, onError: r.onError });
    await waitFor(() => r.flat().length === 22, '22 events delivered', 5_000);
    server.append(3);
    await waitFor(() => r.flat().length === 25, 'live events delivered', 5_000);
    await subscription.stop();

    const positions = r.flat().map((e) => e.globalPosition);
    expect(positions[0]).toBe(400n);
    expect(positions).toEqual([...positions].sort((a, b) => (a < b ? -1 : 1)));
    expect(new Set(positions).size).toBe(25);
    expect(r.delivered.every((batch) => batch.length >= 1 && batch.length <= 4)).toBe(true);
    expect(r.flat().some((e) => e.type.startsWith('$'))).toBe(false);
    expect(r.overlapped()).toBe(false);
    expect(r.errors).toEqual([]);
  });

  it('resubscribes from the last delivered position after a drop, reporting it, skipping and repeating nothing', async () => {
    const server = scriptedServer();
    server.append(10);
    const r = recorder();
    const subscription = followAllStream(server.source, { after: 0n, batchSize: 3, onEvents: r.onEvents, onError: r.onError });
    await waitFor(() => r.flat().length === 10, 'first 10 delivered', 5_000);
    server.drop();
    server.append(5);
    await waitFor(() => r.flat().length === 15, 'events after the drop delivered', 5_000);
    server.drop();
    server.drop();
    server.append(5);
    await waitFor(() => r.flat().length === 20, 'events after the second drop delivered', 5_000);
    await subscription.stop();

    expect(r.flat().map((e) => e.globalPosition)).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i + 1) * 100n));
    expect(server.opens[0]).toBe(0n);
    expect(server.opens).toContain(1000n);
    expect(server.opens.length).toBeGreaterThanOrEqual(3);
    expect(r.errors.length).toBeGreaterThanOrEqual(2);
    for (const error of r.errors) expect(error).toBeInstanceOf(StoreUnavailableError);
  });

  it('reports a failing batch as thrown and redelivers it from the last delivered position', async () => {
    const server = scriptedServer();
    server.append(6);
    const failure = new Error('projection failed once');
    const delivered: RecordedEvent[] = [];
    const errors: unknown[] = [];
    let failed = false;
    const subscription = followAllStream(server.source, {
      after: 0n,
      batchSize: 2,
      onEvents: async (events) => {
        if (!failed && events.some((e) => e.globalPosition >= 300n)) {
          failed = true;
          throw failure;
        }
        delivered.push(...events);
      },
      onError: (error) => errors.push(error),
    });
    await waitFor(() => delivered.length === 6, 'all delivered after the failure', 5_000);
    await subscription.stop();
    expect(delivered.map((e) => e.globalPosition)).toEqual([100n, 200n, 300n, 400n, 500n, 600n]);
    expect(errors).toEqual([failure]);
    expect(server.opens).toEqual([0n, 200n]);
  });

  it('stops after the in-flight batch and delivers nothing afterwards', async () => {
    const server = scriptedServer();
    let inFlight = false;
    let finished = false;
    const delivered: RecordedEvent[] = [];
    const subscription = followAllStream(server.source, {
      after: 0n,
      onEvents: async (events) => {
        inFlight = true;
        await sleep(100);
        delivered.push(...events);
        finished = true;
      },
    });
    server.append(1);
    await waitFor(() => inFlight, 'batch in flight', 5_000);
    await subscription.stop();
    expect(finished).toBe(true);
    server.append(3);
    await sleep(100);
    expect(delivered).toHaveLength(1);
  });

  it('keeps retrying with backoff while the feed cannot be opened, and stop() ends the retries', async () => {
    let attempts = 0;
    const errors: unknown[] = [];
    const failing: FeedSource = {
      open: async () => {
        attempts += 1;
        throw new UnavailableError();
      },
    };
    const subscription = followAllStream(failing, { after: 0n, onEvents: async () => undefined, onError: (e) => errors.push(e) });
    await waitFor(() => attempts >= 3, 'three attempts', 5_000);
    const started = Date.now();
    await subscription.stop();
    expect(Date.now() - started).toBeLessThan(500);
    const attemptsAtStop = attempts;
    await sleep(300);
    expect(attempts).toBe(attemptsAtStop);
    expect(errors.every((e) => e instanceof StoreUnavailableError)).toBe(true);
  });
});
