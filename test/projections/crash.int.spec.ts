// A real crash: the projector runs in a child process (test/support/projectionWorker.ts) while the
// test appends a generated history, and is SIGKILLed at random moments, mid-batch included, then
// restarted. Because rows and checkpoint commit together, the views must end exactly as the oracle
// says — no effect lost or applied twice: every sync item once, inboxSeq consecutive, unread exact —
// and every projection must equal a rebuild from the log (verifyProjection).
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_PROJECTIONS, ensureProjectionSchemas, readCheckpoints } from '../../src/projections/index.js';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';
import type { EventStore } from '../../src/store/eventStore.js';
import { historyOf, scriptArbitrary } from '../oracle/generators.js';
import { appendHistory, type HistoryAppend } from '../support/history.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { startSyncWalker } from '../support/projectionViews.js';
import { expectConvergedWithLog } from '../support/convergence.js';

const FANOUT_LIMIT = 3;
/** Small batches: many commits per second, so a kill often lands inside one. */
const BATCH_SIZE = 3;
const KILLS = 5;
const WORKER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../support/projectionWorker.ts');
const PROJECTION_NAMES = ALL_PROJECTIONS.map((p) => p.name);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a projector process and resolves once its runner is running. */
async function startWorker(databaseUrl: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, databaseUrl, String(FANOUT_LIMIT), String(BATCH_SIZE)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`projector exited (${code}) before it was ready: ${stderr}`)));
  });
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

describe('projector killed at random moments', () => {
  let db: TestDatabase;
  let store: EventStore;
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    store = createPostgresEventStore({ pool: db.pool, notify: true });
  });

  afterAll(async () => {
    if (worker) await kill(worker);
    await store?.close();
    await db?.drop();
  });

  it('ends with views equal to the oracle and to a rebuild, nothing lost or applied twice', async () => {
    // One fixed, busy history; the kill moments are what varies from run to run.
    const [script] = fc.sample(scriptArbitrary({ minSteps: 220, maxSteps: 260 }), { numRuns: 1, seed: 20240131 });
    const { users, conversationIds, appends } = historyOf(script!);
    await ensureProjectionSchemas(db.pool);
    const walkers = await Promise.all(users.map((u) => startSyncWalker(db.pool, u)));

    const chunks: HistoryAppend[][] = [];
    const chunkSize = Math.ceil(appends.length / (KILLS + 1));
    for (let i = 0; i < appends.length; i += chunkSize) chunks.push(appends.slice(i, i + chunkSize));
    const heads = new Map<string, number>();
    let killsWhileBehind = 0;
    // Where the log ends (headPosition() would stop below the projector's open transactions).
    let head = 0n;
    const appendSome = async (some: HistoryAppend[]) => {
      const last = await appendHistory(store, some, heads);
      if (last > head) head = last;
    };

    for (const [index, chunk] of chunks.entries()) {
      // Half the chunk waits for the projector, half arrives while it runs.
      const half = Math.floor(chunk.length / 2);
      await appendSome(chunk.slice(0, half));
      worker = await startWorker(db.url);
      await appendSome(chunk.slice(half));
      if (index === chunks.length - 1) break;
      await sleep(Math.floor(Math.random() * 250));
      await kill(worker);
      const checkpoints = await readCheckpoints(db.pool, PROJECTION_NAMES);
      if (PROJECTION_NAMES.some((name) => (checkpoints.get(name)?.position ?? 0n) < head)) killsWhileBehind++;
    }

    // The last projector catches up; then it is stopped the same hard way.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const checkpoints = await readCheckpoints(db.pool, PROJECTION_NAMES);
      if (PROJECTION_NAMES.every((name) => (checkpoints.get(name)?.position ?? 0n) >= head)) break;
      if (Date.now() > deadline) throw new Error(`projector did not catch up to ${head}: ${JSON.stringify([...checkpoints.values()].map((c) => [c.name, String(c.position)]))}`);
      await sleep(50);
    }
    await kill(worker!);
    // Kills landed while work was pending (else this test would prove little).
    expect(killsWhileBehind, 'kills that interrupted a projector with work pending').toBeGreaterThanOrEqual(3);

    await expectConvergedWithLog({ pool: db.pool, store, fanoutLimit: FANOUT_LIMIT, projections: PROJECTION_NAMES, users, conversationIds, walkers });
  }, 60_000);
});
