// Hears appends made by other processes: a dedicated connection LISTENs on the events channel and
// turns each notification into a wake-up. It reconnects with backoff when the connection drops and
// wakes once after every (re)connect, since notifications sent meanwhile are lost. A hint only:
// subscriptions poll anyway, so a dead listener delays delivery by at most one poll interval.
import pg from 'pg';
import { retryDelayMs } from '../wakeup.js';
import { EVENTS_CHANNEL } from './sql.js';

export interface AppendListener {
  stop(): Promise<void>;
}

export function listenForAppends(clientConfig: pg.ClientConfig, onAppend: () => void): AppendListener {
  let current: pg.Client | undefined;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  let stopped = false;

  function dropAndRetry(client: pg.Client): void {
    if (client !== current || stopped) return;
    current = undefined;
    client.end().catch(() => {});
    failures += 1;
    reconnectTimer = setTimeout(connect, retryDelayMs(failures));
  }

  function connect(): void {
    reconnectTimer = undefined;
    if (stopped) return;
    const client = new pg.Client(clientConfig);
    current = client;
    client.on('notification', () => onAppend());
    // Without these handlers a dropped connection would crash the process.
    client.on('error', () => dropAndRetry(client));
    client.on('end', () => dropAndRetry(client));
    client
      .connect()
      .then(() => client.query(`LISTEN ${EVENTS_CHANNEL}`))
      .then(() => {
        if (client !== current) return;
        failures = 0;
        onAppend();
      })
      .catch(() => dropAndRetry(client));
  }

  connect();
  return {
    async stop() {
      stopped = true;
      clearTimeout(reconnectTimer);
      const client = current;
      current = undefined;
      await client?.end().catch(() => {});
    },
  };
}
