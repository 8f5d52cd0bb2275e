// Sync answers a delta only up to the slowest of the projections that serve it. A hint sent when the
// first of them has applied a batch would make the client pull too early and find nothing; this gate
// holds projected events until every sync projection has applied them, then releases them once.
import type { RecordedEvent } from '../store/eventStore.js';

export interface SyncHintGate {
  /** A projection committed a batch; returns the events every sync projection now has (maybe none). */
  applied(projection: string, events: readonly RecordedEvent[]): RecordedEvent[];
}

export function createSyncHintGate(syncProjections: readonly string[]): SyncHintGate {
  const reached = new Map<string, bigint>();
  const waiting: RecordedEvent[] = []; // in global order, each event once
  let newestBuffered = -1n;
  let released = -1n;

  return {
    applied(projection, events) {
      if (!syncProjections.includes(projection) || events.length === 0) return [];
      for (const event of events) {
        if (event.globalPosition > newestBuffered) {
          waiting.push(event);
          newestBuffered = event.globalPosition;
        }
      }
      reached.set(projection, events.at(-1)!.globalPosition);
      if (reached.size < syncProjections.length) return [];
      const fence = [...reached.values()].reduce((a, b) => (a < b ? a : b));
      if (fence <= released) return [];
      released = fence;
      let count = 0;
      while (count < waiting.length && waiting[count]!.globalPosition <= fence) count++;
      return waiting.splice(0, count);
    },
  };
}
