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
     * Optional: folds the whole log in memory and writes the rows at the end, instead of `apply` batch
     * by batch (which loads its state from the tables for every batch). The rebuild creates the tables
     * and drops the indexes, feeds the loader every page of the log, calls `finish`, then restores the
     * indexes. `finish` writes through `pool` in short transactions of its own (a long transaction
     * holding a transaction id would hold back every log reader: the PostgreSQL store reads below the
     * oldest open transaction); after it the tables must hold exactly what `apply` would have written.
     */
    loader?(pool: pg.Pool, ctx: ApplyContext): BulkLoader;
  };
}

/** A whole-log loader (see `bulkLoad.loader`). It holds no connection while folding. */
export interface BulkLoader {
  /** Folds the next events (global order, contiguous with the previous page). */
  add(events: readonly RecordedEvent[]): Promise<void>;
  /** Writes every row. */
  finish(): Promise<void>;
}
