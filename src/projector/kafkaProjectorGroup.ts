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

  return {
    async start() {
      if (consumer) return;
      const c = kafka.consumer({
        groupId: options.groupId ?? DEFAULT_PROJECTOR_GROUP,
        sessionTimeout,
        heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 10)),
        rebalanceTimeout: 30_000,
      });
      c.on(c.events.GROUP_JOIN, (event) => void reassign(event.payload.memberAssignment[topic] ?? []));
      // A crash kafkajs will not restart from leaves this worker out of the group: stop applying.
      c.on(c.events.CRASH, (event) => {
        if (!event.payload.restart) void reassign([]);
      });
      c.on(c.events.STOP, () => void reassign([]));
      await c.connect();
      await c.subscribe({ topics: [topic], fromBeginning: false });
      await c.run({
        eachBatch: async () => {
          runner?.notify();
        },
      });
      consumer = c;
    },

    async stop() {
      const c = consumer;
      consumer = undefined;
      await c?.disconnect();
      await reassign([]);
    },

    owned: () => ownedNames,
  };
}
