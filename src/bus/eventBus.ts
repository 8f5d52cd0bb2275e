// The bus port between roles (DESIGN.md §2, §8): the relay publishes the event store's global order to
// it; projector workers share the work through it. Kafka (kafkajs, in maintenance mode) stays behind
// this port and inside src/bus/kafka/.
import type { RecordedEvent } from '../store/eventStore.js';

export interface EventPublisher {
  /**
   * Publishes `events` (global order) and resolves once the bus acknowledged every one of them
   * (Kafka: acks=all). On a rejection some may have been published: the caller publishes them again
   * (at least once; consumers deduplicate by global position).
   */
  publish(events: readonly RecordedEvent[]): Promise<void>;
  close(): Promise<void>;
}

/** Structured logging in pino's shape (a pino logger fits as it is). */
export interface BusLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentBusLogger: BusLogger = { info: () => {}, warn: () => {}, error: () => {} };
