// The sync hint gate for projector workers that share the projections (Kafka consumer group): inbox,
// timeline and sessions may run in different processes, so no process sees all three apply a batch.
// Each worker buffers the events of the sync projections it runs and releases them once the committed
// checkpoints of ALL sync projections (read from PostgreSQL) have passed them. Whichever worker applies
// an event last finds every checkpoint past it; a worker whose own check came too early looks again
// every RECHECK_MS while it holds events. The same event may be hinted by more than one worker: a hint
// is only "pull now", so a duplicate costs one extra pull, never a wrong answer.
import type { RecordedEvent } from '../store/eventStore.js';

const RECHECK_MS = 100;

export interface SharedHintGate {
  /** A projection committed a batch in this process. */
  applied(projection: string, events: readonly RecordedEvent[]): void;
  /** Stops re-checking (shutdown). */
  stop(): void;
}

export function createSharedHintGate(
  syncProjections: readonly string[],
  committedPositions: (names: readonly string[]) => Promise<Map<string, bigint>>,
  release: (events: RecordedEvent[]) => void,
  onError: (error: unknown) => void,
): SharedHintGate {
  const waiting: RecordedEvent[] = []; // in global order, each event once
  let newestBuffered = -1n;
  let checking = false;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function check(): Promise<void> {
    if (checking) {
      again = true;
      return;
    }
    checking = true;
    try {
      do {
        again = false;
        const positions = await committedPositions(syncProjections);
        if (positions.size < syncProjections.length) continue;
        const fence = [...positions.values()].reduce((a, b) => (a < b ? a : b));
        let count = 0;
        while (count < waiting.length && waiting[count]!.globalPosition <= fence) count++;
        if (count > 0) release(waiting.splice(0, count));
      } while (again && !stopped);
    } catch (error) {
      onError(error);
    } finally {
      checking = false;
      if (waiting.length > 0 && !stopped && !timer) {
        timer = setTimeout(() => {
          timer = undefined;
          void check();
        }, RECHECK_MS);
      }
    }
  }

  return {
    applied(projection, events) {
      if (stopped || !syncProjections.includes(projection) || events.length === 0) return;
      for (const event of events) {
        if (event.globalPosition > newestBuffered) {
          waiting.push(event);
          newestBuffered = event.globalPosition;
        }
      }
      void check();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      waiting.length = 0;
    },
  };
}
