// Gathers what the load processes' devices pulled, until the expected number arrived or time is up.
import { sleep } from '../load/clock.js';
import type { Delivered } from '../load/protocol.js';
import type { LoadPool } from './loadPool.js';

/**
 * Polls the load processes until `expected` deliveries arrived, nothing new came for `stallMs`, or
 * `timeoutMs` passed: a slow service gets time to catch up, a stuck one does not hold the run forever.
 */
export async function gatherDeliveries(pool: LoadPool, into: Delivered[], expected: number, timeoutMs: number, pollMs = 200, stallMs = 15_000): Promise<Delivered[]> {
  const deadline = Date.now() + timeoutMs;
  let lastProgress = Date.now();
  for (;;) {
    const parts = await pool.all<{ delivered: Delivered[] }>(() => ({ cmd: 'collect' }));
    for (const part of parts) for (const d of part.delivered) into.push(d);
    if (parts.some((p) => p.delivered.length > 0)) lastProgress = Date.now();
    if (into.length >= expected || Date.now() > deadline || Date.now() - lastProgress > stallMs) return into;
    await sleep(pollMs);
  }
}

/**
 * Waits for the deliveries, then has every device pull once more (a client's resume/periodic pull):
 * what is still missing after that is lost, not late. Returns how many only that last pull found.
 */
export async function settleDeliveries(pool: LoadPool, into: Delivered[], expected: number, timeoutMs = 120_000): Promise<{ foundByFinalPull: number }> {
  await gatherDeliveries(pool, into, expected, timeoutMs);
  if (into.length >= expected) return { foundByFinalPull: 0 };
  const before = into.length;
  await pool.all(() => ({ cmd: 'finalPull' }));
  await gatherDeliveries(pool, into, expected, 0);
  return { foundByFinalPull: into.length - before };
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
