// Reading the log page by page through the EventStore port, so commands stream through histories of
// any size with one page in memory.
import type { EventStore, RecordedEvent } from '../store/eventStore.js';

export const PAGE_SIZE = 500;

/** One stream's events from its start, in stream order (which is also global order). */
export async function* streamEvents(store: EventStore, streamId: string, pageSize = PAGE_SIZE): AsyncGenerator<RecordedEvent> {
  for (let fromPosition = 0; ; fromPosition += pageSize) {
    const page = await store.readStream(streamId, { fromPosition, maxCount: pageSize });
    yield* page;
    if (page.length < pageSize) return;
  }
}

/** The global order after `after`, up to and including `upTo`. */
export async function* globalEvents(store: EventStore, after: bigint, upTo: bigint, pageSize = PAGE_SIZE): AsyncGenerator<RecordedEvent> {
  while (after < upTo) {
    const page = await store.readAll({ after, maxCount: pageSize });
    if (page.events.length === 0) return;
    for (const event of page.events) {
      if (event.globalPosition > upTo) return;
      yield event;
    }
    after = page.lastPosition;
  }
}
