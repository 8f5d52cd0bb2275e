// A redis-server of the test's own on a free loopback port (no persistence), so a test can flush it,
// SIGKILL it and start it again without touching the Redis the rest of CI shares (scripts/start-redis.sh).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../support/freePort.js';

export const REDIS_SERVER_MISSING = 'SKIPPED: redis-server is not installed (.ci/run installs it through scripts/start-redis.sh)';
export const redisServerInstalled = (): boolean => spawnSync('redis-server', ['--version']).status === 0;

export interface DedicatedRedis {
  url: string;
  flushAll(): Promise<void>;
  keys(pattern: string): Promise<string[]>;
  kill(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startDedicatedRedis(): Promise<DedicatedRedis> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'missive-faults-redis-'));
  let child: ChildProcess | undefined;
  const url = `redis://127.0.0.1:${port}`;

  const withClient = async <T>(work: (redis: Redis) => Promise<T>): Promise<T> => {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 1_000, retryStrategy: () => null });
    redis.on('error', () => {}); // a refused connect while the server starts is reported by connect() below
    await redis.connect();
    try {
      return await work(redis);
    } finally {
      redis.disconnect();
    }
  };

  async function start(): Promise<void> {
    child = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    for (const deadline = Date.now() + 10_000; ; ) {
      const pong = await withClient((r) => r.ping()).catch(() => undefined);
      if (pong === 'PONG') return;
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer PING within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function kill(): Promise<void> {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }

  await start();
  return {
    url,
    flushAll: () => withClient(async (r) => void (await r.flushall())),
    keys: (pattern) => withClient((r) => r.keys(pattern)),
    kill,
    start,
    async close() {
      await kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
