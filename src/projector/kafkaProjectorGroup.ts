// A projector worker in a Kafka consumer group (DESIGN.md §8). The group protocol decides which
// worker runs which projection (projectionOwnership.ts): when a worker joins, leaves or is killed,
// Kafka rebalances and the projections move with their partitions. The owner applies its projections
// with the ordinary runner, in global order from the projection's checkpoint with the compare-and-set
// in PostgreSQL — that checkpoint is the truth; Kafka offsets are only a hint. The messages consumed
// are wake-ups: each one tells the runner the log has grown. A zombie (a worker that lost its
// partitions and does not know yet) can race the new owner for at most one batch; the checkpoint's
// compare-and-set lets exactly one of them commit it.
import type { Consumer, Kafka } from 'kafkajs';
import type { BusLogger } from '../bus/eventBus.js';
import { silentBusLogger } from '../bus/eventBus.js';
import { ALL_PROJECTIONS } from '../projections/catalog.js';
import type { ProjectionDefinition } from '../projections/definition.js';
import { createProjectionRunner, type ProjectionRunner, type ProjectionRunnerOptions } from '../projections/runtime.js';
import { ownedProjections } from './projectionOwnership.js';

export const DEFAULT_PROJECTOR_GROUP = 'missive-projectors';

export interface KafkaProjectorGroupOptions extends Omit<ProjectionRunnerOptions, 'projections' | 'logger'> {
  kafka: Kafka;
  topic: string;
  /** The events topic's partition count (ensureEventsTopic answers it). */
  partitionCount: number;
  groupId?: string;
  projections?: readonly ProjectionDefinition[];
  /** How long the broker waits for a silent (e.g. killed) member before moving its partitions, ms (default 10,000; the broker's minimum is 6,000). */
  sessionTimeoutMs?: number;
  logger?: BusLogger;
  /** Called whenever the projections this worker runs change (tests, logs). */
  onOwnershipChange?: (names: readonly string[]) => void;
}

export interface KafkaProjectorGroup {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The projections this worker runs now. */
  owned(): readonly string[];
}

export function createKafkaProjectorGroup(options: KafkaProjectorGroupOptions): KafkaProjectorGroup {
  const { kafka, topic, partitionCount } = options;
  const projections = options.projections ?? ALL_PROJECTIONS;
  const logger = options.logger ?? silentBusLogger;
  const sessionTimeout = options.sessionTimeoutMs ?? 10_000;
  let consumer: Consumer | undefined;
  let runner: ProjectionRunner | undefined;
  let ownedNames: string[] = [];
  // Ownership changes run one after another: the old runner has stopped before the new one starts.
  let transitions: Promise<void> = Promise.resolve();

  function reassign(partitions: readonly number[]): Promise<void> {
    transitions = transitions.then(async () => {
      const owned = ownedProjections(projections, partitions, partitionCount);
      const names = owned.map((p) => p.name);
      if (names.join() === ownedNames.join()) return;
      await runner?.stop();
      runner = undefined;
      ownedNames = names;
      if (owned.length > 0) {
        const next = createProjectionRunner({ ...options, projections: owned, logger });
        await next.start();
        runner = next;
      }
      logger.info({ projections: names, partitions: [...partitions] }, 'projector ownership changed');
      options.onOwnershipChange?.(names);
    }).catch((error: unknown) => {
      // Starting a runner failed (database down): own nothing; the next rebalance or restart retries.
      ownedNames = [];
      runner = undefined;
      logger.error({ err: error }, 'projector could not take its projections');
    });
    return transitions;
  }

  let stopped = true;
  let rejoinTimer: NodeJS.Timeout | undefined;
  let rejoinFailures = 0;
  /** A rejoin in progress (stop() waits for it, so no consumer outlives the worker). */
  let rejoining: Promise<void> = Promise.resolve();

  /** Joins the group with a fresh consumer; throws when the broker cannot be reached (the caller retries). */
  async function join(): Promise<void> {
    const c = kafka.consumer({
      groupId: options.groupId ?? DEFAULT_PROJECTOR_GROUP,
      sessionTimeout,
      heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 10)),
      rebalanceTimeout: 30_000,
    });
    c.on(c.events.GROUP_JOIN, (event) => {
      rejoinFailures = 0;
      void reassign(event.payload.memberAssignment[topic] ?? []);
    });
    // A crash kafkajs will not restart from leaves this worker out of the group: stop applying, and
    // join again with a new consumer until it works. kafkajs gives up for good once its own retries
    // (about 10 s) are spent, e.g. while a broker restarts; without this the worker would never apply
    // anything again (found by test/faults/kafkaRestart.faults.spec.ts).
    c.on(c.events.CRASH, (event) => {
      if (event.payload.restart) return;
      void reassign([]);
      if (consumer === c) scheduleRejoin(c);
    });
    c.on(c.events.STOP, () => void reassign([]));
    consumer = c;
    try {
      await c.connect();
      await c.subscribe({ topics: [topic], fromBeginning: false });
      await c.run({
        eachBatch: async () => {
          runner?.notify();
        },
      });
    } catch (error) {
      if (consumer === c) consumer = undefined;
      await c.disconnect().catch(() => {});
      throw error;
    }
  }

  function scheduleRejoin(crashed: Consumer): void {
    if (stopped || rejoinTimer) return;
    rejoinFailures += 1;
    const delay = Math.min(500 * 2 ** Math.min(rejoinFailures - 1, 4), 5_000);
    logger.warn({ attempt: rejoinFailures, delayMs: delay }, 'projector left its consumer group (its consumer crashed for good); joining again');
    rejoinTimer = setTimeout(() => {
      rejoinTimer = undefined;
      rejoining = (async () => {
        if (consumer === crashed) consumer = undefined;
        await crashed.disconnect().catch(() => {});
        if (stopped) return;
        try {
          await join();
        } catch (error) {
          logger.warn({ err: error, attempt: rejoinFailures }, 'projector could not join its consumer group yet');
          scheduleRejoin(crashed);
        }
      })();
    }, delay);
  }

  return {
    async start() {
      if (!stopped) return;
      stopped = false;
      try {
        await join();
      } catch (error) {
        stopped = true;
        throw error;
      }
    },

    async stop() {
      stopped = true;
      clearTimeout(rejoinTimer);
      rejoinTimer = undefined;
      await rejoining;
      const c = consumer;
      consumer = undefined;
      await c?.disconnect();
      await reassign([]);
    },

    owned: () => ownedNames,
  };
}
