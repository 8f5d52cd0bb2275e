// Keeps the folded state of recently used streams in memory, so deciding a command costs no read.
// A cached entry may be behind other nodes' appends; the append's expected revision catches that and
// `catchUp` folds the missing events in. Bounded: least recently used streams are dropped.
import type { EventStore, RecordedEvent } from '../store/eventStore.js';

export interface StreamSnapshot<State> {
  state: State;
  /** Last stream position folded into `state` (-1: no events). */
  version: number;
}

export interface StreamStateCache<State> {
  /** The cached snapshot, loading the stream on a miss. */
  get(streamId: string): Promise<StreamSnapshot<State>>;
  /** Folds events appended after the cached version (by anyone) into the snapshot. */
  catchUp(streamId: string): Promise<StreamSnapshot<State>>;
  /** Folds events this process just appended (in stream order) into the cached snapshot, if any. */
  applyAppended(streamId: string, events: RecordedEvent[]): void;
  evict(streamId: string): void;
  size(): number;
}

const PAGE = 1000;

export function createStreamStateCache<State>(options: {
  store: EventStore;
  initial: State;
  evolve: (state: State, event: RecordedEvent) => State;
  maxEntries: number;
}): StreamStateCache<State> {
  const entries = new Map<string, StreamSnapshot<State>>();

  function remember(streamId: string, snapshot: StreamSnapshot<State>): StreamSnapshot<State> {
    entries.delete(streamId);
    entries.set(streamId, snapshot);
    if (entries.size > options.maxEntries) entries.delete(entries.keys().next().value!);
    return snapshot;
  }

  function fold(snapshot: StreamSnapshot<State>, events: RecordedEvent[]): StreamSnapshot<State> {
    let { state, version } = snapshot;
    for (const event of events) {
      // Events at or below the version are already folded (a concurrent catch-up got them first).
      if (event.streamPosition <= version) continue;
      if (event.streamPosition !== version + 1) {
        throw new Error(`Stream ${event.streamId}: expected position ${version + 1}, got ${event.streamPosition}`);
      }
      state = options.evolve(state, event);
      version = event.streamPosition;
    }
    return { state, version };
  }

  async function readFrom(streamId: string, snapshot: StreamSnapshot<State>): Promise<StreamSnapshot<State>> {
    let current = snapshot;
    for (;;) {
      const page = await options.store.readStream(streamId, { fromPosition: current.version + 1, maxCount: PAGE });
      current = fold(current, page);
      if (page.length < PAGE) return current;
    }
  }

  return {
    async get(streamId) {
      const cached = entries.get(streamId);
      if (cached) return remember(streamId, cached);
      return remember(streamId, await readFrom(streamId, { state: options.initial, version: -1 }));
    },
    async catchUp(streamId) {
      const base = entries.get(streamId) ?? { state: options.initial, version: -1 };
      return remember(streamId, await readFrom(streamId, base));
    },
    applyAppended(streamId, events) {
      const base = entries.get(streamId);
      if (!base) return; // evicted meanwhile: the next get() reloads it
      try {
        remember(streamId, fold(base, events));
      } catch {
        entries.delete(streamId); // someone else's events sit in between: reload on next use
      }
    },
    evict: (streamId) => void entries.delete(streamId),
    size: () => entries.size,
  };
}
