// What the projection runtime needs from the rest of Missive (pool, store, config), shared by the
// runner, rebuild and verify.
import type pg from 'pg';
import type { EventStore } from '../store/eventStore.js';
import type { Failpoints } from '../failpoints/failpoints.js';
import type { ProjectionDefinition } from './definition.js';

/** Structured logging in pino's shape; a pino logger fits as it is. */
export interface ProjectionLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: ProjectionLogger = { info: () => {}, warn: () => {}, error: () => {} };

export interface ProjectionDeps {
  pool: pg.Pool;
  store: EventStore;
  fanoutLimit: number;
  /** Defaults to ALL_PROJECTIONS. */
  projections?: readonly ProjectionDefinition[];
  /** Events per batch (default 500 live; rebuilds use four times this). */
  batchSize?: number;
  logger?: ProjectionLogger;
  /** Fault tests: 'projection-mid-batch' is reached inside every live batch, before its COMMIT. */
  failpoints?: Failpoints;
}

export const DEFAULT_BATCH_SIZE = 500;
