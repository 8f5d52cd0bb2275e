// Reads the events a replay query selects, in global order, up to the head position seen when the
// replay started (a replay is a snapshot, not a tail). One page is in memory at a time.
import type { EventStore, RecordedEvent } from '../../store/eventStore.js';
import { conversationStreamId } from '../../domain/streams.js';
import { CliInputError } from '../cliErrors.js';
import { globalEvents, PAGE_SIZE, streamEvents } from '../readPages.js';
import { createUserInvolvement, passesFilters, type ReplayQuery } from './replayQuery.js';

/** The selected events in global order; throws CliInputError for an unknown stream, conversation or user. */
export async function* replayEvents(store: EventStore, query: ReplayQuery, pageSize = PAGE_SIZE): AsyncGenerator<RecordedEvent> {
  const head = await store.headPosition();
  const upTo = query.toPosition !== undefined && query.toPosition < head ? query.toPosition : head;
  let remaining = query.limit ?? Infinity;
  for await (const event of candidates(store, query, upTo, pageSize)) {
    if (!passesFilters(query, event)) continue;
    yield event;
    remaining -= 1;
    if (remaining <= 0) return;
  }
}

/** The events of the query's source up to `upTo`, before the type/time/position filters. */
function candidates(store: EventStore, query: ReplayQuery, upTo: bigint, pageSize: number): AsyncGenerator<RecordedEvent> {
  const { source } = query;
  switch (source.kind) {
    case 'stream':
      return streamUpTo(store, source.streamId, upTo, pageSize, () => new CliInputError('unknown_stream', `no stream ${source.streamId}`));
    case 'conversation':
      return streamUpTo(store, conversationStreamId(source.conversationId), upTo, pageSize, () =>
        new CliInputError('unknown_conversation', `no conversation ${source.conversationId}`),
      );
    case 'user':
      return userEvents(store, source.userId, upTo, pageSize);
    case 'all': {
      const from = query.fromPosition ?? 0n;
      return globalEvents(store, from > 0n ? from - 1n : 0n, upTo, pageSize);
    }
  }
}

async function* streamUpTo(store: EventStore, streamId: string, upTo: bigint, pageSize: number, unknown: () => Error): AsyncGenerator<RecordedEvent> {
  let empty = true;
  for await (const event of streamEvents(store, streamId, pageSize)) {
    empty = false;
    if (event.globalPosition > upTo) return;
    yield event;
  }
  if (empty) throw unknown();
}

/** The user's involvement needs their whole membership history, so it reads from the start. */
async function* userEvents(store: EventStore, userId: string, upTo: bigint, pageSize: number): AsyncGenerator<RecordedEvent> {
  const involvement = createUserInvolvement(userId);
  for await (const event of globalEvents(store, 0n, upTo, pageSize)) {
    if (involvement.concerns(event)) yield event;
  }
  if (!involvement.seen) throw new CliInputError('unknown_user', `user ${userId} appears nowhere in the log`);
}
