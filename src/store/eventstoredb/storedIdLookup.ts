// Finds which of an append's event ids are already in the stream, by reading it backwards. This is
// how the adapter keeps the port's idempotency promise ("a stored id appends nothing, whatever the
// expected revision"): EventStoreDB alone deduplicates only a retry with the same exact revision.
import { BACKWARDS, END, type EventStoreDBClient, type ReadRevision } from '@eventstore/db-client';
import type { RecordedEvent } from '../eventStore.js';
import { toRecordedEvent } from './esdbMapping.js';
import { readStreamPage } from './esdbReads.js';

export interface StoredIdLookup {
  /** The stream's last position when read (-1: no stream). */
  head: number;
  /** The requested ids found within the lookback window, with their stored records. */
  found: Map<string, RecordedEvent>;
}

/** A retry usually follows its original closely: a small first page answers it in one round trip. */
const FIRST_PAGE = 64;
const NEXT_PAGE = 1_000;

/**
 * Reads the last `lookback` events of the stream (newest first), stopping early once every id is found.
 * At least the newest event is read, so `head` is known even with a lookback of 0.
 */
export async function lookUpStoredIds(
  client: EventStoreDBClient,
  streamId: string,
  eventIds: ReadonlySet<string>,
  lookback: number,
): Promise<StoredIdLookup> {
  const found = new Map<string, RecordedEvent>();
  let head = -1;
  let scanned = 0;
  let fromRevision: ReadRevision = END;
  for (;;) {
    const maxCount = scanned === 0 ? Math.max(1, Math.min(FIRST_PAGE, lookback)) : Math.min(NEXT_PAGE, lookback - scanned);
    const page = await readStreamPage(client, streamId, { direction: BACKWARDS, fromRevision, maxCount });
    const newest = page[0]?.event;
    if (scanned === 0 && newest) head = Number(newest.revision);
    page.forEach((resolved, i) => {
      const id = resolved.event?.id.toLowerCase();
      if (id !== undefined && eventIds.has(id) && scanned + i < lookback) found.set(id, toRecordedEvent(resolved));
    });
    scanned += page.length;
    const oldest = page.at(-1)?.event;
    if (page.length < maxCount || !oldest || oldest.revision === 0n || scanned >= lookback || found.size === eventIds.size) {
      return { head, found };
    }
    fromRevision = oldest.revision - 1n;
  }
}
