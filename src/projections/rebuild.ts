// Rebuild: replays the whole log into a shadow schema while the live one keeps serving and
// advancing, then swaps them in one short transaction that holds the checkpoint row (so the live
// projector pauses for its length), applies the last events to the shadow, renames schemas, sets
// the checkpoint to the shadow's position and bumps the epoch. Rerunning an interrupted rebuild is
// safe: the shadow is dropped and recreated first.
import type pg from 'pg';
import { inTransaction, replayInto } from './applyBatch.js';
import { ALL_PROJECTIONS, findProjection } from './catalog.js';
import { readCheckpoint, swapCheckpoint } from './checkpoints.js';
import type { ProjectionDefinition } from './definition.js';
import { DEFAULT_BATCH_SIZE, silentLogger, type ProjectionDeps } from './deps.js';
import { ProjectionStateError } from './errors.js';
import { withRebuildLock } from './locks.js';
import { ensureProjectionSchemas, recreateSchema, schemaExists } from './schemas.js';
import { schemaIdent } from './shared/sql.js';

export interface RebuildOptions {
  /** Progress in global positions: `done` applied so far out of `total` (the head when the rebuild began). */
  onProgress?(done: number, total: number): void;
}

export interface RebuildResult {
  name: string;
  epoch: number;
  position: bigint;
  events: number;
  durationMs: number;
  /** Where a whole-log load spent its time (projections with a bulk loader only). */
  phasesMs?: LoadPhases;
}

/** Milliseconds: waiting for log pages, folding/streaming them, finishing the load (the COPY's tail and the state tables), building indexes. */
export interface LoadPhases {
  readWait: number;
  fold: number;
  finish: number;
  indexes: number;
}

/** Rebuild batches are larger than live ones: nobody waits on them, fewer round trips. */
const REBUILD_BATCH_FACTOR = 4;
/** A whole-log loader only reads pages: larger ones cost fewer queries and nothing else. */
const LOADER_PAGE_FACTOR = 20;

export const shadowSchemaOf = (def: ProjectionDefinition): string => `${def.schema}__shadow`;
const retiredSchemaOf = (def: ProjectionDefinition): string => `${def.schema}__retired`;

/** Drops and recreates `schema` and replays the log into it up to `until` (default: the head). */
export async function buildIntoSchema(
  deps: ProjectionDeps,
  def: ProjectionDefinition,
  schema: string,
  options: { until?: bigint; onProgress?: RebuildOptions['onProgress'] } = {},
): Promise<{ position: bigint; events: number; phasesMs?: LoadPhases }> {
  if (def.bulkLoad?.loader) return loadIntoSchema(deps, def, schema, options);
  await inTransaction(deps.pool, async (client) => {
    await recreateSchema(client, def, schema);
    await def.bulkLoad?.dropIndexes(client, schema);
    return true;
  });
  const total = options.until ?? (await deps.store.headPosition());
  let events = 0;
  options.onProgress?.(0, Number(total));
  const position = await replayInto(
    { pool: deps.pool },
    {
      store: deps.store,
      def,
      schema,
      fanoutLimit: deps.fanoutLimit,
      batchSize: (deps.batchSize ?? DEFAULT_BATCH_SIZE) * REBUILD_BATCH_FACTOR,
      from: 0n,
      until: options.until,
      onBatch: (reached, count) => {
        events += count;
        options.onProgress?.(Number(reached), Math.max(Number(total), Number(reached)));
      },
    },
  );
  if (def.bulkLoad) await inTransaction(deps.pool, async (client) => (await def.bulkLoad!.restoreIndexes(client, schema), true));
  return { position, events };
}

/**
 * buildIntoSchema for a projection with a whole-log loader: create the tables and drop the indexes,
 * feed the loader every page of the log (the next page is read while the loader folds the current
 * one), let it write its rows, restore the indexes. Like the batch path, the shadow is only used
 * after the swap, and an interrupted build is simply run again (the schema is recreated first).
 */
async function loadIntoSchema(
  deps: ProjectionDeps,
  def: ProjectionDefinition,
  schema: string,
  options: { until?: bigint; onProgress?: RebuildOptions['onProgress'] },
): Promise<{ position: bigint; events: number; phasesMs: LoadPhases }> {
  const bulkLoad = def.bulkLoad!;
  await inTransaction(deps.pool, async (client) => {
    await recreateSchema(client, def, schema);
    await bulkLoad.dropIndexes(client, schema);
    return true;
  });
  const total = options.until ?? (await deps.store.headPosition());
  const pageSize = (deps.batchSize ?? DEFAULT_BATCH_SIZE) * LOADER_PAGE_FACTOR;
  const { until } = options;
  options.onProgress?.(0, Number(total));
  const loader = bulkLoad.loader!(deps.pool, { schema, fanoutLimit: deps.fanoutLimit });
  let position = 0n;
  let events = 0;
  const phasesMs: LoadPhases = { readWait: 0, fold: 0, finish: 0, indexes: 0 };
  let mark = performance.now();
  const lap = (phase: keyof LoadPhases) => {
    const now = performance.now();
    phasesMs[phase] += now - mark;
    mark = now;
  };
  let next = deps.store.readAll({ after: position, maxCount: pageSize });
  try {
    while (until === undefined || position < until) {
      const page = await next;
      lap('readWait');
      const chosen = until === undefined ? page.events : page.events.filter((e) => e.globalPosition <= until);
      if (chosen.length === 0) break;
      const truncated = chosen.length < page.events.length;
      if (!truncated) next = deps.store.readAll({ after: page.lastPosition, maxCount: pageSize });
      await loader.add(chosen);
      lap('fold');
      position = chosen.at(-1)!.globalPosition;
      events += chosen.length;
      options.onProgress?.(Number(position), Math.max(Number(total), Number(position)));
      if (truncated) break;
    }
  } finally {
    await next.catch(() => undefined); // a prefetch nobody needs must not surface as an unhandled rejection
  }
  await loader.finish();
  lap('finish');
  await inTransaction(deps.pool, async (client) => (await bulkLoad.restoreIndexes(client, schema), true));
  lap('indexes');
  for (const phase of Object.keys(phasesMs) as (keyof LoadPhases)[]) phasesMs[phase] = Math.round(phasesMs[phase]);
  return { position, events, phasesMs };
}

/** Applies the log from `from` to `until` into `schema` inside the caller's transaction (the final stretch). */
export function replayWithin(client: pg.ClientBase, deps: ProjectionDeps, def: ProjectionDefinition, schema: string, from: bigint, until: bigint): Promise<bigint> {
  const batchSize = deps.batchSize ?? DEFAULT_BATCH_SIZE;
  return replayInto({ client }, { store: deps.store, def, schema, fanoutLimit: deps.fanoutLimit, batchSize, from, until });
}

export async function rebuildProjection(deps: ProjectionDeps, name: string, options: RebuildOptions = {}): Promise<RebuildResult> {
  const def = findProjection(name, deps.projections ?? ALL_PROJECTIONS);
  const logger = deps.logger ?? silentLogger;
  const started = Date.now();
  await ensureProjectionSchemas(deps.pool, [def]);
  return withRebuildLock(deps.pool, def.name, async () => {
    const shadow = shadowSchemaOf(def);
    const retired = retiredSchemaOf(def);
    logger.info({ projection: def.name, shadow }, 'projection rebuild started');
    const built = await buildIntoSchema(deps, def, shadow, { onProgress: options.onProgress });
    await deps.pool.query(`DROP SCHEMA IF EXISTS ${schemaIdent(retired)} CASCADE`);

    const swapped = await inTransaction(deps.pool, async (client) => {
      // Holding the checkpoint row: the live projector waits, then finds the checkpoint moved.
      const checkpoint = await readCheckpoint(client, def.name, true);
      if (!checkpoint) throw new ProjectionStateError(`Projection ${def.name} has no checkpoint`);
      const head = await deps.store.headPosition();
      const position = await replayWithin(client, deps, def, shadow, built.position, head);
      if (position < checkpoint.position) throw new ProjectionStateError(`Shadow of ${def.name} ended behind the live checkpoint`);
      if (await schemaExists(client, def.schema)) await client.query(`ALTER SCHEMA ${schemaIdent(def.schema)} RENAME TO ${schemaIdent(retired)}`);
      await client.query(`ALTER SCHEMA ${schemaIdent(shadow)} RENAME TO ${schemaIdent(def.schema)}`);
      const epoch = await swapCheckpoint(client, def.name, def.version, position);
      return { epoch, position };
    });
    await deps.pool.query(`DROP SCHEMA IF EXISTS ${schemaIdent(retired)} CASCADE`);
    const result: RebuildResult = { name: def.name, epoch: swapped!.epoch, position: swapped!.position, events: built.events, durationMs: Date.now() - started };
    if (built.phasesMs) result.phasesMs = built.phasesMs;
    options.onProgress?.(Number(result.position), Number(result.position));
    logger.info({ projection: def.name, epoch: result.epoch, position: result.position.toString(), durationMs: result.durationMs }, 'projection rebuilt');
    return result;
  });
}
