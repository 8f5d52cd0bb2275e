// Applies the SQL migrations in migrations/ with node-pg-migrate (an advisory lock keeps two
// processes from migrating at once).
import { runner } from 'node-pg-migrate';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

export async function migrate(databaseUrl: string, log: (msg: string) => void = () => {}): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    checkOrder: true,
    log,
    logger: { debug: () => {}, info: log, warn: log, error: log },
    verbose: false,
    singleTransaction: true,
    // Nodes of a distributed deployment start together and each migrates: the later ones wait for the
    // first and then find nothing to do, instead of failing their start-up.
    advisoryLockMode: 'wait',
  });
  return applied.map((m) => m.name);
}
