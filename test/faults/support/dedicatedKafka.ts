// A Kafka broker of the test's own (scripts/start-kafka.sh on a free loopback port pair: PORT for the
// broker, PORT+1 for its KRaft controller), so a test can stop and start it without touching the broker
// the rest of CI shares on 19092. Its data directory (${TMPDIR:-/tmp}/missive-kafka-PORT) survives a
// stop and start, like a real broker's disk across a restart: topics, offsets and groups are kept. It
// is removed by close().
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const SCRIPT = path.join(ROOT, 'scripts/start-kafka.sh');
const KAFKA_VERSION = '3.9.1'; // as in scripts/start-kafka.sh

/** Why this machine cannot start a broker of its own, or undefined when it can (java and mvn present). */
export function kafkaUnavailableReason(): string | undefined {
  for (const tool of ['java', 'mvn']) {
    if (spawnSync('bash', ['-c', `command -v ${tool}`]).status !== 0) {
      return `SKIPPED: '${tool}' is not installed; scripts/start-kafka.sh needs a JDK 17+ and Maven 3 to run its own Kafka broker`;
    }
  }
  return undefined;
}

/** Whether the broker's jars are already in the cache (a failed start is then not a download problem). */
export function kafkaJarsCached(): boolean {
  const cache = process.env['MISSIVE_KAFKA_CACHE'] ?? path.join(os.homedir(), '.cache/missive-kafka');
  return fs.existsSync(path.join(cache, `libs-${KAFKA_VERSION}`, '.complete'));
}

export interface DedicatedKafka {
  port: number;
  brokers: string[];
  /** scripts/start-kafka.sh stop PORT: SIGTERM, a clean shutdown (bounded by the script). */
  stop(): Promise<void>;
  /** scripts/start-kafka.sh PORT: returns once the broker has started (bounded by the script). */
  start(): Promise<void>;
  /** Stops the broker (if running) and removes its data directory. */
  close(): Promise<void>;
}

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** A port whose successor is free too (the script puts the controller on PORT+1). */
async function freePortPair(): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    if ((await portFree(port)) && (await portFree(port + 1))) return port;
  }
  throw new Error('no free loopback port pair for a Kafka broker');
}

function runScript(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [SCRIPT, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += String(d)));
    child.stderr.on('data', (d) => (output += String(d)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`scripts/start-kafka.sh ${args.join(' ')} failed (${code}): ${output.slice(-3000)}`));
    });
  });
}

export async function startDedicatedKafka(): Promise<DedicatedKafka> {
  const port = await freePortPair();
  const runDir = path.join(process.env['TMPDIR'] ?? '/tmp', `missive-kafka-${port}`);
  // The script's own waits are bounded (60 s start, 30 s stop); these bounds only catch a hung shell.
  const start = async () => void (await runScript([String(port)], 120_000));
  const stop = async () => void (await runScript(['stop', String(port)], 60_000));
  try {
    await start();
  } catch (error) {
    await stop().catch(() => {});
    fs.rmSync(runDir, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    brokers: [`127.0.0.1:${port}`],
    start,
    stop,
    async close() {
      await stop();
      fs.rmSync(runDir, { recursive: true, force: true });
    },
  };
}
