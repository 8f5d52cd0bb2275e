// The inbox rebuild loader (src/projections/inbox/inboxBulkLoad.ts) cut as finely as it goes: a COPY
// chunk per row and a transaction every few rows must still give exactly the rows `apply` built
// incrementally (the rebuild tests only reach the loader's last, single chunk).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readCheckpoint } from '../../../src/projections/index.js';
import { createInboxLoader } from '../../../src/projections/inbox/inboxBulkLoad.js';
import { inboxProjection } from '../../../src/projections/inbox/inboxProjection.js';
import { buildIntoSchema } from '../../../src/projections/rebuild.js';
import type { ProjectionDefinition } from '../../../src/projections/definition.js';
import { writeRandomHistory } from '../randomHistory.js';
import { createProjectionFixture, newId, type ProjectionFixture } from '../support.js';

const FANOUT_LIMIT = 3;
const SCRATCH = 'proj_inbox__loadtest';

let fx: ProjectionFixture;
beforeAll(async () => {
  fx = await createProjectionFixture({ fanoutLimit: FANOUT_LIMIT, batchSize: 5 });
  await writeRandomHistory(fx.log, { seed: 33, steps: 120, users: Array.from({ length: 7 }, () => newId()), newId });
  await fx.runner.catchUp();
});
afterAll(async () => fx?.close());

async function dump(schema: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of ['conversations', 'fanout_modes', 'heads', 'entries', 'member_periods']) {
    const rows = await fx.db.pool.query<{ j: string }>(`SELECT to_jsonb(t)::text AS j FROM "${schema}"."${table}" t`);
    out[table] = rows.rows.map((r) => r.j).sort();
  }
  return out;
}

describe('inbox bulk loader', () => {
  it('writes exactly the incremental rows through many small COPY transactions', async () => {
    const def: ProjectionDefinition = {
      ...inboxProjection,
      bulkLoad: { ...inboxProjection.bulkLoad!, loader: (pool, ctx) => createInboxLoader(pool, ctx, { flushChars: 1, rowsPerTransaction: 7 }) },
    };
    const checkpoint = (await readCheckpoint(fx.db.pool, 'inbox'))!;
    const connect = vi.spyOn(fx.db.pool, 'connect');
    try {
      const built = await buildIntoSchema({ pool: fx.db.pool, store: fx.store, fanoutLimit: FANOUT_LIMIT, batchSize: 5 }, def, SCRATCH, { until: checkpoint.position });
      expect(built.position).toBe(checkpoint.position);
      const live = await dump(inboxProjection.schema);
      expect(live.entries!.length).toBeGreaterThan(50);
      expect(await dump(SCRATCH)).toEqual(live);
      // One connection per COPY transaction (and a few more around them): the rows were cut up.
      expect(connect.mock.calls.length).toBeGreaterThan(live.entries!.length / 7);
    } finally {
      connect.mockRestore();
      await fx.db.pool.query(`DROP SCHEMA IF EXISTS "${SCRATCH}" CASCADE`);
    }
  });
});
