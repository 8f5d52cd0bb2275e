// Groups a push source (a subscription's event stream) into batches: a batch is yielded when it is
// full or when no item arrived for `idleMs`. The consumer's await between batches is the
// backpressure: no item is pulled while it works, so the source's own buffer fills and pauses it.

export interface BatchOptions {
  maxSize: number;
  idleMs: number;
  /** Ends the batches at once when it resolves; a partial batch is dropped, not yielded. */
  until: Promise<void>;
}

const STOPPED = Symbol('stopped');
const IDLE = Symbol('idle');

function idleTimer(ms: number): { elapsed: Promise<typeof IDLE>; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<typeof IDLE>((resolve) => {
    timer = setTimeout(() => resolve(IDLE), ms);
  });
  return { elapsed, cancel: () => clearTimeout(timer) };
}

export async function* batchByCountOrIdle<T>(source: AsyncIterable<T>, options: BatchOptions): AsyncGenerator<T[]> {
  const iterator = source[Symbol.asyncIterator]();
  const stopped: Promise<typeof STOPPED> = options.until.then(() => STOPPED);
  let pending: Promise<IteratorResult<T>> | undefined;
  let batch: T[] = [];
  try {
    for (;;) {
      pending ??= iterator.next();
      const idle = batch.length > 0 ? idleTimer(options.idleMs) : undefined;
      const outcome: IteratorResult<T> | typeof STOPPED | typeof IDLE = await Promise.race<IteratorResult<T> | typeof STOPPED | typeof IDLE>(idle ? [pending, stopped, idle.elapsed] : [pending, stopped]).finally(() => idle?.cancel());
      if (outcome === STOPPED) return;
      if (outcome === IDLE) {
        yield batch;
        batch = [];
        continue;
      }
      pending = undefined;
      if (outcome.done) {
        if (batch.length > 0) yield batch;
        return;
      }
      batch.push(outcome.value);
      if (batch.length >= options.maxSize) {
        yield batch;
        batch = [];
      }
    }
  } finally {
    // Not awaited: an async iterator queues return() behind a next() that may never settle (an idle
    // subscription); the source's owner closes the source, which settles both.
    pending?.catch(() => undefined);
    iterator.return?.()?.catch(() => undefined);
  }
}
