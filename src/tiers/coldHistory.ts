// The cold tier of history: the event store itself. The items of seqs [from, to] are the events at
// stream positions [from - 1, to - 1]; an edit or a recall of one of them is a later event of the same
// stream, so the read goes on past `to` until the patch horizon: edits and recalls are only accepted
// within the edit/recall window after the message (domain limits), so nothing past that can patch it.
import { conversationStreamId } from '../domain/streams.js';
import { factOf, itemPatchOf, patchItem, timelineItemOf } from '../projections/fold/eventFacts.js';
import type { TimelineItem } from '../projections/types.js';
import type { EventStore } from '../store/eventStore.js';
import { itemTimeMs } from './hotStore.js';

/** The patch scan reads this many events first, doubling up to MAX_PAGE: most scans stop early. */
const FIRST_PAGE = 64;
const MAX_PAGE = 1_000;
/** Clock skew allowed between the message time and the recording of its last possible patch. */
const SKEW_MS = 60_000;

export interface ColdReadOptions {
  /** The longest edit or recall window ever in force, ms: no patch can come later than this after a message. */
  patchHorizonMs: number;
}

export async function coldItems(store: EventStore, conversationId: string, from: number, to: number, options: ColdReadOptions): Promise<TimelineItem[]> {
  const stream = conversationStreamId(conversationId);
  const bySeq = new Map<number, TimelineItem>();
  const events = await store.readStream(stream, { fromPosition: from - 1, maxCount: to - from + 1 });
  let newestMs = 0;
  for (const event of events) {
    const fact = factOf(event);
    if (fact.stream !== 'conversation') continue;
    const item = timelineItemOf(fact.fact);
    bySeq.set(fact.fact.seq, item);
    newestMs = Math.max(newestMs, itemTimeMs(item));
    const target = itemPatchOf(fact.fact);
    if (target && bySeq.has(target.targetSeq)) bySeq.set(target.targetSeq, patchItem(bySeq.get(target.targetSeq)!, target.patch));
  }
  const horizon = newestMs + options.patchHorizonMs + SKEW_MS;
  let position = (events.at(-1)?.streamPosition ?? to - 1) + 1;
  // Bounded: the stream is finite and every page moves forward.
  for (let pages = 0, size = FIRST_PAGE; events.length > 0 && pages < 1_000_000; pages++, size = Math.min(MAX_PAGE, size * 2)) {
    const later = await store.readStream(stream, { fromPosition: position, maxCount: size });
    for (const event of later) {
      const fact = factOf(event);
      if (fact.stream !== 'conversation') continue;
      // The domain checks a patch's own time against the message's: past the horizon, none can follow.
      if (Date.parse(fact.fact.at) > horizon) return [...bySeq.values()];
      const target = itemPatchOf(fact.fact);
      if (target && bySeq.has(target.targetSeq)) bySeq.set(target.targetSeq, patchItem(bySeq.get(target.targetSeq)!, target.patch));
    }
    if (later.length < size) break;
    position = later.at(-1)!.streamPosition + 1;
  }
  return [...bySeq.values()];
}
