// Following the global order, shared by the store adapters: a subscription reads pages until it is
// caught up, then sleeps until a wake-up (an append, a notification) or the poll interval, whichever
// comes first. The wake-up is only a hint; the read decides what is there, so a lost wake-up costs
// at most one poll interval and never an event.
import type { ReadAllOptions, ReadAllPage, SubscribeOptions, Subscription } from './eventStore.js';

export interface Wakeup {
  /** Changes on every notify(); a waiter that saw an older version returns at once. */
  version(): number;
  /** Wakes every waiter: something new may be readable. */
  notify(): void;
  /** Resolves on the next notify() after `sinceVersion`, after `timeoutMs`, or when `signal` aborts. */
  waitFor(sinceVersion: number, timeoutMs: number, signal: AbortSignal): Promise<void>;
}

export function createWakeup(): Wakeup {
  let version = 0;
  const waiters = new Set<() => void>();
  return {
    version: () => version,
    notify() {
      version += 1;
      for (const wake of [...waiters]) wake();
    },
    waitFor(sinceVersion, timeoutMs, signal) {
      if (version !== sinceVersion || signal.aborted) return Promise.resolve();
      return new Promise((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          waiters.delete(wake);
          signal.removeEventListener('abort', wake);
          resolve();
        };
        const timer = setTimeout(wake, timeoutMs);
        waiters.add(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    },
  };
}

/** Sleeps `ms`, or less when `signal` aborts. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Retry delay after `failures` consecutive failures: 100 ms doubling up to 5 s. */
export const retryDelayMs = (failures: number): number => Math.min(100 * 2 ** Math.max(0, failures - 1), 5_000);

export const DEFAULT_SUBSCRIPTION_BATCH_SIZE = 500;

/** Re-read delay while events are held back behind an open transaction: 5 ms doubling, capped by the poll interval. */
export const heldBackDelayMs = (attempts: number, pollIntervalMs: number): number =>
  Math.min(5 * 2 ** Math.min(attempts, 10), pollIntervalMs);

export interface FollowGlobalOrderOptions {
  subscribe: SubscribeOptions;
  readAll: (options: ReadAllOptions) => Promise<ReadAllPage>;
  wakeup: Wakeup;
  pollIntervalMs: number;
  /** Called once when the subscription has stopped. */
  onStopped?: () => void;
}

/**
 * Delivers the global order from `subscribe.after`, batch by batch. The position advances only after
 * onEvents resolved, so a failed batch (or failed read) is reported to onError and retried from the
 * last delivered position with backoff: nothing is skipped and no completed batch is delivered twice.
 * Do not await stop() inside onEvents: stop waits for that very batch.
 */
export function followGlobalOrder(options: FollowGlobalOrderOptions): Subscription {
  const { subscribe, readAll, wakeup, pollIntervalMs } = options;
  const batchSize = subscribe.batchSize ?? DEFAULT_SUBSCRIPTION_BATCH_SIZE;
  const stopping = new AbortController();
  const signal = stopping.signal;
  let position = subscribe.after;

  const report = (error: unknown) => {
    try {
      subscribe.onError?.(error);
    } catch {
      // An error handler that throws must not end the subscription.
    }
  };

  async function run(): Promise<void> {
    let failures = 0;
    let heldBackAttempts = 0;
    while (!signal.aborted) {
      const seenVersion = wakeup.version();
      try {
        const page = await readAll({ after: position, maxCount: batchSize });
        if (signal.aborted) return;
        if (page.events.length > 0) {
          await subscribe.onEvents(page.events);
          position = page.lastPosition;
        }
        if (page.heldBack && page.events.length === 0) {
          // The transaction holding the fence may commit without a notification (another stream's
          // writer, a projector): look again soon instead of sleeping a whole poll interval.
          await wakeup.waitFor(seenVersion, heldBackDelayMs(heldBackAttempts, pollIntervalMs), signal);
          heldBackAttempts += 1;
        } else if (page.events.length === 0) {
          heldBackAttempts = 0;
          await wakeup.waitFor(seenVersion, pollIntervalMs, signal);
        } else {
          heldBackAttempts = 0;
        }
        failures = 0;
      } catch (error) {
        failures += 1;
        report(error);
        await sleepUnlessAborted(retryDelayMs(failures), signal);
      }
    }
  }

  const finished = run().finally(() => options.onStopped?.());
  return {
    async stop() {
      stopping.abort();
      await finished;
    },
  };
}

/** The live subscriptions of one store: started through it, all stopped by the store's close(). */
export interface SubscriptionSet {
  follow(options: Omit<FollowGlobalOrderOptions, 'onStopped'>): Subscription;
  stopAll(): Promise<void>;
}

/** `onCountChange` hears the number of live subscriptions (e.g. to LISTEN only while someone follows). */
export function createSubscriptionSet(onCountChange?: (live: number) => void): SubscriptionSet {
  const live = new Set<Subscription>();
  return {
    follow(options) {
      const subscription = followGlobalOrder({
        ...options,
        onStopped: () => {
          live.delete(subscription);
          onCountChange?.(live.size);
        },
      });
      live.add(subscription);
      onCountChange?.(live.size);
      return subscription;
    },
    async stopAll() {
      await Promise.all([...live].map((subscription) => subscription.stop()));
    },
  };
}
