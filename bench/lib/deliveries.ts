// Gathers what the load processes' devices pulled, until the expected number arrived or time is up.
import { sleep } from '../load/clock.js';
import type { Delivered } from '../load/protocol.js';
import type { LoadPool } from './loadPool.js';

export async function gatherDeliveries(pool: LoadPool, into: Delivered[], expected: number, timeoutMs: number, pollMs = 200): Promise<Delivered[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const parts = await pool.all<{ delivered: Delivered[] }>(() => ({ cmd: 'collect' }));
    for (const part of parts) for (const d of part.delivered) into.push(d);
    if (into.length >= expected || Date.now() > deadline) return into;
    await sleep(pollMs);
  }
}

export interface WorkerStatus {
  devices: number;
  hints: number;
  unexpectedCloses: number;
  pullErrors: number;
  pongs: number;
  rssBytes: number;
}

export async function poolStatus(pool: LoadPool): Promise<WorkerStatus> {
  const parts = await pool.all<WorkerStatus>(() => ({ cmd: 'status' }));
  return parts.reduce((a, b) => ({
    devices: a.devices + b.devices,
    hints: a.hints + b.hints,
    unexpectedCloses: a.unexpectedCloses + b.unexpectedCloses,
    pullErrors: a.pullErrors + b.pullErrors,
    pongs: a.pongs + b.pongs,
    rssBytes: a.rssBytes + b.rssBytes,
  }));
}

/** Loopback source addresses 127.0.0.2, .3, ...: one per `perAddress` sockets, past one address's port range. */
export function sourceAddress(index: number, perAddress = 20_000): string {
  return `127.0.0.${2 + Math.floor(index / perAddress)}`;
}
