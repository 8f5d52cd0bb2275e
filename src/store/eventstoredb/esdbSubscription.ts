// The port's subscribe() on EventStoreDB: a catch-up subscription to $all (system events filtered
// out by the server), delivered in batches, one batch at a time. The client does not resubscribe
// after a drop, so this loop does: from the last delivered position, with backoff, until stop().
import { excludeSystemEvents, type EventStoreDBClient } from '@eventstore/db-client';
import { StoreUnavailableError, type SubscribeOptions, type Subscription } from '../eventStore.js';
import { DEFAULT_SUBSCRIPTION_BATCH_SIZE, retryDelayMs, sleepUnlessAborted } from '../wakeup.js';
import { batchByCountOrIdle } from './batchByCountOrIdle.js';
import { toStoreError } from './esdbErrors.js';
import { userEventsAfter, type EsdbResolvedEvent } from './esdbMapping.js';
import { subscriptionStartAfter } from './esdbReads.js';

/** An open live feed of $all records after some position. */
export interface OpenFeed {
  events: AsyncIterable<EsdbResolvedEvent>;
  /** Ends the feed; its iterator then finishes or fails. */
  close(): Promise<void>;
}

/** Opens feeds; the real one subscribes to the server, tests substitute a scripted log. */
export interface FeedSource {
  open(after: bigint): Promise<OpenFeed>;
}

/** How long a partial batch waits for more events before it is delivered. */
const DEFAULT_IDLE_MS = 10;

export function allStreamFeedSource(client: EventStoreDBClient): FeedSource {
  return {
    async open(after) {
      const subscription = client.subscribeToAll({ fromPosition: await subscriptionStartAfter(client, after), filter: excludeSystemEvents() });
      // The client emits errors without destroying the stream: destroying makes an error sticky, so
      // an iterator started after it still fails, and a late error (after close) is not uncaught.
      subscription.on('error', (error) => subscription.destroy(error));
      return {
        events: subscription,
        async close() {
          await subscription.unsubscribe();
          subscription.destroy();
        },
      };
    },
  };
}

/**
 * Delivers the global order after `options.after` from feeds opened by `source`. The position advances
 * only after onEvents resolved; a drop, a feed error or a failing batch is reported to onError and the
 * feed is reopened from the last delivered position after a growing delay, so nothing is skipped and
 * no completed batch is delivered twice. Do not await stop() inside onEvents: stop waits for that batch.
 */
export function followAllStream(source: FeedSource, options: SubscribeOptions, idleMs = DEFAULT_IDLE_MS): Subscription {
  const batchSize = options.batchSize ?? DEFAULT_SUBSCRIPTION_BATCH_SIZE;
  const stopping = new AbortController();
  const signal = stopping.signal;
  const stopRequested = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  let position = options.after;
  let failures = 0;

  const report = (error: unknown) => {
    try {
      options.onError?.(error);
    } catch {
      // An error handler that throws must not end the subscription.
    }
  };

  async function deliverUntilDropped(): Promise<void> {
    const feed = await source.open(position);
    try {
      for await (const batch of batchByCountOrIdle(feed.events, { maxSize: batchSize, idleMs, until: stopRequested })) {
        const events = userEventsAfter(batch, position);
        if (events.length > 0) {
          await options.onEvents(events);
          position = events.at(-1)!.globalPosition;
        }
        failures = 0;
        if (signal.aborted) return;
      }
    } finally {
      await feed.close().catch(() => undefined);
    }
    if (!signal.aborted) throw new StoreUnavailableError('The EventStoreDB subscription ended');
  }

  async function run(): Promise<void> {
    while (!signal.aborted) {
      try {
        await deliverUntilDropped();
      } catch (error) {
        if (signal.aborted) return;
        failures += 1;
        report(toStoreError(error, 'subscription to $all'));
        await sleepUnlessAborted(retryDelayMs(failures), signal);
      }
    }
  }

  const finished = run();
  return {
    async stop() {
      stopping.abort();
      await finished;
    },
  };
}
