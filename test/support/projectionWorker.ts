// A projector in its own process, for the crash test (test/projections/crash.int.spec.ts): runs the
// projection runner against the given database until it is killed. The test SIGKILLs it at random
// moments; nothing here cleans up on SIGKILL, which is the point.
//
//   node --import tsx test/support/projectionWorker.ts <databaseUrl> <fanoutLimit> <batchSize>
import pg from 'pg';
import { createProjectionRunner } from '../../src/projections/index.js';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';

const [databaseUrl, fanoutLimit, batchSize] = process.argv.slice(2);
if (!databaseUrl || !fanoutLimit || !batchSize) {
  process.stderr.write('usage: projectionWorker.ts <databaseUrl> <fanoutLimit> <batchSize>\n');
  process.exit(2);
}

const pool = new pg.Pool({ connectionString: databaseUrl, max: 8 });
const store = createPostgresEventStore({ pool, pollIntervalMs: 20 });
const runner = createProjectionRunner({
  pool,
  store,
  fanoutLimit: Number(fanoutLimit),
  batchSize: Number(batchSize),
  pollIntervalMs: 20,
  logger: {
    info: () => {},
    warn: (obj, msg) => process.stderr.write(`warn ${msg ?? ''} ${JSON.stringify(obj)}\n`),
    error: (obj, msg) => process.stderr.write(`error ${msg ?? ''} ${String((obj as { err?: unknown }).err ?? JSON.stringify(obj))}\n`),
  },
});

await runner.start();
process.stdout.write('ready\n');

process.once('SIGTERM', () => {
  void (async () => {
    await runner.stop();
    await store.close();
    await pool.end();
    process.exit(0);
  })();
});
