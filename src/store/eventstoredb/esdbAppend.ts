// The port's append on EventStoreDB: validate, find the ids already stored (within the lookback
// window), append only the new events with optimistic concurrency, and read them back for their
// positions and timestamps. Appends to one stream are serialised inside this process.
import {
  MaxAppendSizeExceededError,
  WrongExpectedVersionError,
  type AppendExpectedRevision,
  type EventStoreDBClient,
} from '@eventstore/db-client';
import { WrongExpectedRevisionError, type AppendResult, type EventStore, type ExpectedRevision, type RecordedEvent } from '../eventStore.js';
import { prepareAppend, revisionMatches, type PreparedEvent } from '../memory/requestChecks.js';
import { appendTooLarge, toStoreError } from './esdbErrors.js';
import {
  appendResultOf,
  expectedRevisionForServer,
  headFromCurrentRevision,
  canPinToHead,
  toEventData,
  toRecordedEvent,
} from './esdbMapping.js';
import { readStreamPage } from './esdbReads.js';
import { createKeyedSerializer } from './keyedSerializer.js';
import { lookUpStoredIds, type StoredIdLookup } from './storedIdLookup.js';

export interface EsdbAppendSettings {
  maxEventBytes: number;
  /** How many of the stream's newest events are searched for already-stored ids. */
  idempotencyLookback: number;
}

/**
 * A loose expectation ('any', 'stream_exists') is pinned to the observed head this many times; a
 * conflict means another writer appended meanwhile, so we re-check ids and pin to the new head. The
 * last attempt sends the loose expectation itself, which cannot conflict for 'any'.
 */
const PINNED_ATTEMPTS = 5;

type SendOutcome = { kind: 'appended'; nextRevision: bigint } | { kind: 'conflict'; actual: number | undefined };

export function createEsdbAppend(client: EventStoreDBClient, settings: EsdbAppendSettings): EventStore['append'] {
  const serialize = createKeyedSerializer();
  return async (streamId, events, expected) => {
    const prepared = prepareAppend(streamId, events, expected, settings.maxEventBytes);
    return serialize(streamId, () => appendPrepared(client, settings, streamId, prepared, expected));
  };
}

async function appendPrepared(
  client: EventStoreDBClient,
  settings: EsdbAppendSettings,
  streamId: string,
  prepared: PreparedEvent[],
  expected: ExpectedRevision,
): Promise<AppendResult> {
  const eventIds = prepared.map((p) => p.event.eventId);
  const lookUp = () => lookUpStoredIds(client, streamId, new Set(eventIds), settings.idempotencyLookback);
  const allStored = (lookup: StoredIdLookup) => eventIds.every((id) => lookup.found.has(id));

  let lookup = await lookUp();
  for (let attempt = 1; ; attempt++) {
    if (prepared.length === 0) {
      if (!revisionMatches(expected, lookup.head)) throw new WrongExpectedRevisionError(streamId, expected, lookup.head);
      return { nextExpectedRevision: lookup.head, events: [] };
    }
    // Every id already stored: answer with the stored records, whatever revision was expected.
    if (allStored(lookup)) return appendResultOf(eventIds, lookup.found, new Map(), lookup.head);

    const fresh = prepared.filter((p) => !lookup.found.has(p.event.eventId));
    const pinned = attempt < PINNED_ATTEMPTS && canPinToHead(expected, lookup.head);
    const outcome = await send(client, streamId, fresh, expectedRevisionForServer(expected, lookup.head, pinned));
    if (outcome.kind === 'appended') {
      const appended = await readBackAppended(client, streamId, outcome.nextRevision, fresh.length);
      return appendResultOf(eventIds, lookup.found, appended, Number(outcome.nextRevision));
    }
    // A conflict may be a concurrent writer storing these very events: re-check the ids once.
    lookup = await lookUp();
    if (!pinned && !allStored(lookup)) throw new WrongExpectedRevisionError(streamId, expected, outcome.actual ?? lookup.head);
  }
}

async function send(
  client: EventStoreDBClient,
  streamId: string,
  fresh: PreparedEvent[],
  expectedRevision: AppendExpectedRevision,
): Promise<SendOutcome> {
  try {
    const result = await client.appendToStream(streamId, fresh.map(toEventData), { expectedRevision });
    // success is false only when the connection string sets throwOnAppendFailure=false.
    return result.success ? { kind: 'appended', nextRevision: result.nextExpectedRevision } : { kind: 'conflict', actual: undefined };
  } catch (error) {
    if (error instanceof WrongExpectedVersionError) return { kind: 'conflict', actual: headFromCurrentRevision(error.actualVersion) };
    if (error instanceof MaxAppendSizeExceededError) throw appendTooLarge(fresh, error.maxAppendSize);
    throw toStoreError(error, `append to stream ${streamId}`);
  }
}

/** The just-appended events (the `count` ending at `nextRevision`), by id, as stored. */
async function readBackAppended(
  client: EventStoreDBClient,
  streamId: string,
  nextRevision: bigint,
  count: number,
): Promise<Map<string, RecordedEvent>> {
  const fromRevision = nextRevision - BigInt(count - 1);
  const page = await readStreamPage(client, streamId, { direction: 'forwards', fromRevision, maxCount: count });
  return new Map(page.map(toRecordedEvent).map((record) => [record.eventId.toLowerCase(), record]));
}
