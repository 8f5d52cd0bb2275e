// Publishes sync hints off the projector's path. The projection runner reports each committed batch and
// waits for the report to return; publishing (a member lookup per conversation, then the gateway) must
// not hold it there, or a slow publish would slow every read model with it. Batches that arrive while a
// publication runs are merged into the next one, so what waits is bounded by the number of distinct
// users and conversations, not by the number of events (found with the publish-stall failpoint).
import type { HintTargets } from './hintFeed.js';

export interface HintPublisher {
  /** Queues targets for publication and returns at once. */
  add(targets: HintTargets): void;
  /** Resolves when nothing is queued or running (tests, shutdown). */
  idle(): Promise<void>;
}

export function createHintPublisher(publish: (targets: HintTargets) => Promise<void>, onError: (error: unknown) => void): HintPublisher {
  let pending: HintTargets | undefined;
  let running: Promise<void> | undefined;

  async function drain(): Promise<void> {
    while (pending) {
      const next = pending;
      pending = undefined;
      try {
        await publish(next);
      } catch (error) {
        onError(error);
      }
    }
    running = undefined;
  }

  return {
    add(targets) {
      if (!pending) pending = { users: new Set(), conversations: new Set() };
      for (const u of targets.users) pending.users.add(u);
      for (const c of targets.conversations) pending.conversations.add(c);
      running ??= drain();
    },
    idle: () => running ?? Promise.resolve(),
  };
}
