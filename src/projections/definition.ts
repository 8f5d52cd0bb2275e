// What a projection is to the runtime: a name, a version, its own schema, how to create its tables
// in any schema (live, shadow or scratch) and how to apply a batch of events set-wise.
import type pg from 'pg';
import type { RecordedEvent } from '../store/eventStore.js';

export interface ApplyContext {
  /** The schema to write into: the live one, or a shadow/scratch one during rebuild or verify. */
  schema: string;
  /** Conversations with more members than this are read fan-out (DESIGN.md §4). */
  fanoutLimit: number;
}

export interface ProjectionDefinition {
  name: string;
  /** Bumped when the tables or their meaning change: the stored read model must then be rebuilt. */
  version: number;
  /** The live schema; queries always read this one. */
  schema: string;
  /** Creates the tables in `schema` (which exists and is empty). */
  createTables(client: pg.ClientBase, schema: string): Promise<void>;
  /**
   * Applies events (in global order, every event of the log: skip what does not concern you) inside
   * the caller's transaction. Must be deterministic: a rebuild must produce the same rows.
   */
  apply(client: pg.ClientBase, events: readonly RecordedEvent[], ctx: ApplyContext): Promise<void>;
  /**
   * Optional, for rebuilds: drops indexes that apply never reads through before the shadow is
   * bulk-loaded, and recreates them before the swap. Building an index once over the loaded rows is
   * far cheaper than maintaining it row by row.
   */
  bulkLoad?: {
    dropIndexes(client: pg.ClientBase, schema: string): Promise<void>;
    restoreIndexes(client: pg.ClientBase, schema: string): Promise<void>;
    /**
     * Optional: folds the whole log in memory and streams the rows out, instead of `apply` batch by
     * batch (which loads its state from the tables for every batch). The rebuild then runs in one
     * transaction on `client`: create the tables, drop the indexes, `add` every page, `finish`,
     * restore the indexes. After `finish` the tables must hold exactly what `apply` would have written.
     */
    loader?(client: pg.ClientBase, ctx: ApplyContext): BulkLoader;
  };
}

/** A whole-log loader (see `bulkLoad.loader`); it owns its client's connection until `finish` or `abort`. */
export interface BulkLoader {
  /** Folds the next events (global order, contiguous with the previous page). */
  add(events: readonly RecordedEvent[]): Promise<void>;
  /** Writes what remains (the final state rows). */
  finish(): Promise<void>;
  /** Gives the connection back after a failure (cancels a COPY in progress), so the caller can roll back. */
  abort(error: unknown): Promise<void>;
}
