// Runs tasks one at a time per key (here: per stream), in call order, different keys in parallel.
// The EventStoreDB adapter's idempotency check reads the stream and then appends; serialising both
// per stream inside the process means a concurrent retry of the same event always sees the original.

export type KeyedSerializer = <T>(key: string, task: () => Promise<T>) => Promise<T>;

export function createKeyedSerializer(): KeyedSerializer {
  const tails = new Map<string, Promise<void>>();
  return <T>(key: string, task: () => Promise<T>): Promise<T> => {
    const previous = tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    // Forget an idle key so the map holds only streams with work queued.
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return result;
  };
}
