// The coordinator's side of the load generator: forks N worker processes (bench/load/worker.ts), sends
// them commands and gathers their answers. Big payloads (acks, deliveries) travel over IPC as JSON.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { WorkerCommand, WorkerReply } from '../load/protocol.js';

const WORKER = path.resolve(import.meta.dirname, '../load/worker.ts');

export interface LoadPool {
  size: number;
  call<T>(worker: number, command: WorkerCommand): Promise<T>;
  /** The same command shape to every worker, built per worker (e.g. its share of the devices). */
  all<T>(build: (worker: number) => WorkerCommand | undefined): Promise<T[]>;
  stop(): Promise<void>;
}

export function startLoadPool(size: number, urls: string[], maxSockets = 128): LoadPool {
  let nextId = 1;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const children: ChildProcess[] = Array.from({ length: size }, (_, index) => {
    const child = fork(WORKER, [], {
      execArgv: ['--import', 'tsx', '--max-old-space-size=2048'],
      env: { ...process.env, BENCH_WORKER_INDEX: String(index), BENCH_URLS: JSON.stringify(urls), BENCH_MAX_SOCKETS: String(maxSockets) },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', (reply: WorkerReply) => {
      const w = waiting.get(reply.id);
      if (!w) return;
      waiting.delete(reply.id);
      if (reply.ok) w.resolve(reply.result);
      else w.reject(new Error(`load worker ${index}: ${reply.error}`));
    });
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) for (const [, w] of waiting) w.reject(new Error(`load worker ${index} exited with ${code}`));
    });
    return child;
  });

  const call = <T>(worker: number, command: WorkerCommand): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      children[worker]!.send({ id, command });
    });

  return {
    size,
    call,
    async all<T>(build: (worker: number) => WorkerCommand | undefined): Promise<T[]> {
      const calls: Array<Promise<T>> = [];
      children.forEach((_, i) => {
        const command = build(i);
        if (command) calls.push(call<T>(i, command));
      });
      return Promise.all(calls);
    },
    async stop() {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.disconnect();
              setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
            }),
        ),
      );
    },
  };
}

/** Splits items into `parts` round-robin shares. */
export function shares<T>(items: readonly T[], parts: number): T[][] {
  const out: T[][] = Array.from({ length: parts }, () => []);
  items.forEach((item, i) => out[i % parts]!.push(item));
  return out;
}
