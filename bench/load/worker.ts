// A load-generator process: forked by the coordinator (bench/lib/loadPool.ts), it holds WebSocket
// devices and REST senders and answers the coordinator's commands over the IPC channel. Several of
// them spread the clients over the machine's cores and past one process's file-descriptor limit.
import { createJsonClient, type JsonClient } from '../lib/http.js';
import { wallMs } from './clock.js';
import { Device } from './device.js';
import type { PullSample, WorkerCommand, WorkerReply, WorkerRequest } from './protocol.js';
import { createSenders } from './senders.js';

const workerIndex = Number(process.env.BENCH_WORKER_INDEX ?? 0);
let devices: Device[] = [];
const senders = createSenders(JSON.parse(process.env.BENCH_URLS ?? '[]') as string[], Number(process.env.BENCH_MAX_SOCKETS ?? 128));
const pullClients = new Map<string, JsonClient>();

/** Runs `work` over `items` with at most `concurrency` at a time; returns the failures. */
async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>): Promise<string[]> {
  const errors: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        await work(item).catch((error: unknown) => errors.push(error instanceof Error ? error.message : String(error)));
      }
    }),
  );
  return errors;
}

async function pullRepeat(command: Extract<WorkerCommand, { cmd: 'pullRepeat' }>): Promise<{ samples: PullSample[]; wrongCounts: number; errors: number }> {
  const samples: PullSample[] = [];
  let wrongCounts = 0;
  let errors = 0;
  let rep = 0;
  await Promise.all(
    Array.from({ length: command.concurrency }, async () => {
      while (rep < command.reps) {
        const reader = command.readers[rep++ % command.readers.length]!;
        let client = pullClients.get(reader.url);
        if (!client) pullClients.set(reader.url, (client = createJsonClient(reader.url, { maxSockets: command.concurrency })));
        const t = wallMs();
        const res = await client.request<{ items: unknown[] }>('GET', `/v1/sync?since=${encodeURIComponent(reader.since)}&limit=${command.limit}`, reader.token);
        const doneAt = wallMs();
        if (res.status !== 200) {
          errors++;
          continue;
        }
        // The reader has at least `limit` items after `since`: a page of another size is a bug.
        if (res.body.items.length !== command.limit) wrongCounts++;
        samples.push({ doneAt, latencyMs: doneAt - t, items: res.body.items.length });
      }
    }),
  );
  return { samples, wrongCounts, errors };
}

async function handle(command: WorkerCommand): Promise<unknown> {
  switch (command.cmd) {
    case 'connect': {
      const fresh = command.devices.map((spec) => new Device(spec, command.pull));
      const opened: Device[] = [];
      const errors = await inParallel(fresh, command.concurrency, async (device) => {
        await device.open(command.appPingMs);
        opened.push(device);
      });
      devices.push(...opened);
      return { opened: opened.length, failed: errors.length, errors: [...new Set(errors)].slice(0, 5) };
    }
    case 'initialSync': {
      const errors = await inParallel(devices, 64, (d) => d.initialSync());
      return { synced: devices.length - errors.length, errors: [...new Set(errors)].slice(0, 5) };
    }
    case 'finalPull': {
      const errors = await inParallel(devices, 64, (d) => d.finalPull());
      return { pulled: devices.length - errors.length, errors: [...new Set(errors)].slice(0, 5) };
    }
    case 'collect':
      return { delivered: devices.flatMap((d) => d.takeDelivered()) };
    case 'status':
      return {
        devices: devices.length,
        hints: devices.reduce((n, d) => n + d.hintCount, 0),
        unexpectedCloses: devices.reduce((n, d) => n + d.unexpectedCloses, 0),
        pullErrors: devices.reduce((n, d) => n + d.pullErrors, 0),
        pongs: devices.reduce((n, d) => n + d.pongs, 0),
        rssBytes: process.memoryUsage().rss,
      };
    case 'sendOpen':
      return senders.openLoop(command.senders, command.ratePerSecond, command.durationMs, command.maxInFlight, `${command.tag}w${workerIndex}`);
    case 'sendClosed':
      return senders.closedLoop(command.senders, command.concurrency, command.durationMs, `${command.tag}w${workerIndex}`, command.maxSends);
    case 'pullRepeat':
      return pullRepeat(command);
    case 'closeAll': {
      for (const d of devices) d.close();
      devices = [];
      return { closed: true };
    }
  }
}

process.on('message', (message: WorkerRequest) => {
  handle(message.command).then(
    (result) => process.send!({ id: message.id, ok: true, result } satisfies WorkerReply),
    (error: unknown) => process.send!({ id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies WorkerReply),
  );
});
process.on('disconnect', () => process.exit(0));
