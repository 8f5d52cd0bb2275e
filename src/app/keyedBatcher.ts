// Serialises work per key (a conversation, a user) inside this process and lets the worker take
// several queued jobs at once, so a hot conversation becomes one append per batch instead of a retry
// storm of competing appends.

export interface KeyedBatcher<Job, Result> {
  /** Queues a job for `key`; resolves with the job's own result once its batch ran. */
  submit(key: string, job: Job): Promise<Result>;
  /** Jobs queued or running, over all keys. */
  pending(): number;
}

/**
 * `runBatch` receives the jobs of one key in arrival order and must return one outcome per job (a
 * result or an Error); a thrown error fails the whole batch. `canJoin(first, next)` says whether `next`
 * may share a batch that starts with `first`.
 */
export function createKeyedBatcher<Job, Result>(options: {
  runBatch: (key: string, jobs: Job[]) => Promise<Array<Result | Error>>;
  canJoin: (first: Job, next: Job) => boolean;
  maxBatch: number;
}): KeyedBatcher<Job, Result> {
  interface Entry {
    job: Job;
    resolve: (r: Result) => void;
    reject: (e: unknown) => void;
  }
  const queues = new Map<string, Entry[]>();
  let queued = 0;

  async function drain(key: string, queue: Entry[]): Promise<void> {
    while (queue.length > 0) {
      const first = queue[0]!;
      let size = 1;
      while (size < queue.length && size < options.maxBatch && options.canJoin(first.job, queue[size]!.job)) size++;
      const batch = queue.slice(0, size);
      try {
        const outcomes = await options.runBatch(
          key,
          batch.map((e) => e.job),
        );
        batch.forEach((entry, i) => {
          const outcome = outcomes[i];
          if (outcome instanceof Error) entry.reject(outcome);
          else entry.resolve(outcome as Result);
        });
      } catch (error) {
        for (const entry of batch) entry.reject(error);
      }
      queue.splice(0, size);
      queued -= size;
    }
    queues.delete(key);
  }

  return {
    submit(key, job) {
      return new Promise<Result>((resolve, reject) => {
        let queue = queues.get(key);
        const start = !queue;
        if (!queue) {
          queue = [];
          queues.set(key, queue);
        }
        queue.push({ job, resolve, reject });
        queued++;
        if (start) void drain(key, queue);
      });
    },
    pending: () => queued,
  };
}
