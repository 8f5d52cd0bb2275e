// Runs the service (src/server/serve.ts) until SIGINT/SIGTERM, then closes it cleanly; a second signal
// exits at once. Logs where it listens in the server's log format (pino, JSON lines on stdout).
import { pino } from 'pino';
import { loadConfig, parseRoles, type Config } from '../../config/config.js';
import { startServer } from '../../server/serve.js';

const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** `roles`: the --role value; an unknown role is a ConfigError (exit 2) raised before anything starts. */
export async function runServer(roles: string | undefined): Promise<void> {
  const loaded = loadConfig();
  const config: Config = roles === undefined ? loaded : { ...loaded, roles: parseRoles(roles) };
  const logger = pino({ level: config.logLevel, base: { component: 'cli' } });
  const server = await startServer(config);
  logger.info({ url: listenUrl(config, server), roles: config.roles }, 'missive serving');
  const signal = await nextStopSignal(() => {
    logger.warn('second signal: exiting without waiting for the close');
    process.exit(1);
  });
  logger.info({ signal }, 'missive closing');
  await server.close();
  logger.info('missive closed');
}

/** The server's own address when its handle reports one (e.g. after binding port 0), else the configured one. */
function listenUrl(config: Config, server: object): string {
  const reported = (server as { url?: unknown }).url;
  return typeof reported === 'string' ? reported : `http://${config.host}:${config.port}`;
}

/** Resolves with the first SIGINT/SIGTERM; any later one calls `onRepeat`. */
function nextStopSignal(onRepeat: () => void): Promise<NodeJS.Signals> {
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
