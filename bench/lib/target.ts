// The service under test. Embedded (default): `node bin/missive.js serve` as a child process on a free
// loopback port with a throw-away data directory, exactly as an operator starts it. Distributed: the
// nodes named by MISSIVE_BENCH_URLS (comma-separated base URLs of api/gateway nodes) are driven as they
// are. Tokens are minted with the JWT secret the service verifies with (the bench sets it for the
// embedded child; give MISSIVE_JWT_SECRET for distributed nodes), else fetched from the dev login.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTokenService } from '../../src/auth/tokens.js';
import { freePort } from '../../test/support/freePort.js';
import { createJsonClient, expectStatus } from './http.js';

export const ROOT = path.resolve(import.meta.dirname, '../..');
const TOKEN_TTL_SECONDS = 4 * 3600;

export interface Target {
  mode: 'embedded' | 'distributed';
  /** Base URLs of the nodes clients talk to; clients are spread over them round-robin. */
  urls: string[];
  mintToken(userId: string): Promise<string>;
  /** Resident memory of the service process in bytes (Prometheus process metrics), summed over nodes. */
  serverRssBytes(): Promise<number>;
  /** The embedded child's pid (for profiles), undefined in distributed mode. */
  pid: number | undefined;
  describe(): Record<string, unknown>;
  stop(): Promise<void>;
}

export async function startTarget(options: { env?: Record<string, string>; profileDir?: string } = {}): Promise<Target> {
  const urls = process.env.MISSIVE_BENCH_URLS?.split(',').map((u) => u.trim().replace(/\/$/, '')).filter(Boolean);
  if (urls && urls.length > 0) return distributedTarget(urls);
  return startEmbedded(options.env ?? {}, options.profileDir);
}

function tokenMinter(secret: string | undefined, baseUrl: string): (userId: string) => Promise<string> {
  if (secret) {
    const tokens = createTokenService({ secret, issuer: process.env.MISSIVE_JWT_ISSUER ?? 'missive', audience: process.env.MISSIVE_JWT_AUDIENCE ?? 'missive' });
    return (userId) => tokens.issue(userId, { ttlSeconds: TOKEN_TTL_SECONDS });
  }
  const client = createJsonClient(baseUrl, { maxSockets: 4 });
  return async (userId) =>
    (await expectStatus(client.request<{ token: string }>('POST', '/v1/dev/token', null, { userId, ttlSeconds: TOKEN_TTL_SECONDS }), [200], 'dev token')).token;
}

async function rssFromMetrics(url: string): Promise<number> {
  const res = await fetch(`${url}/metrics`);
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith('missive_process_resident_memory_bytes '));
  if (!line) throw new Error(`${url}/metrics has no missive_process_resident_memory_bytes`);
  return Number(line.split(' ')[1]);
}

function distributedTarget(urls: string[]): Target {
  return {
    mode: 'distributed',
    urls,
    pid: undefined,
    mintToken: tokenMinter(process.env.MISSIVE_JWT_SECRET, urls[0]!),
    serverRssBytes: async () => (await Promise.all(urls.map(rssFromMetrics))).reduce((a, b) => a + b, 0),
    describe: () => ({ mode: 'distributed', urls }),
    stop: async () => {},
  };
}

/** bin/missive.js runs dist/: build it when it is missing or older than a source file. */
export function ensureBuilt(): void {
  const main = path.join(ROOT, 'dist/cli/main.js');
  const builtAt = fs.existsSync(main) ? fs.statSync(main).mtimeMs : 0;
  const newest = newestMtime(path.join(ROOT, 'src'));
  if (builtAt >= newest) return;
  process.stderr.write('building dist/ (npm run build)...\n');
  const result = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('npm run build failed');
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

async function startEmbedded(extraEnv: Record<string, string>, profileDir: string | undefined): Promise<Target> {
  ensureBuilt();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'missive-bench-serve-'));
  // The embedded PostgreSQL may run as another user (when we are root): let it into the directory.
  fs.chmodSync(dataDir, 0o777);
  const port = await freePort();
  const secret = randomBytes(24).toString('base64url');
  const url = `http://127.0.0.1:${port}`;
  const logFile = path.join(dataDir, 'serve.log');
  const log = fs.openSync(logFile, 'a');
  // --profile: a V8 CPU profile of the service, written when it exits (open it in Chrome DevTools).
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'bin/missive.js'), 'serve'], {
    cwd: ROOT,
    env: {
      ...embeddedEnv(),
      PORT: String(port),
      HOST: '127.0.0.1',
      MISSIVE_DATA_DIR: dataDir,
      MISSIVE_EMBEDDED_PG_PORT: String(await freePort()),
      MISSIVE_JWT_SECRET: secret,
      MISSIVE_DEV_AUTH: 'true',
      MISSIVE_LOG_LEVEL: 'warn',
      ...extraEnv,
    },
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  try {
    await waitReady(url, child, logFile);
  } catch (error) {
    child.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    mode: 'embedded',
    urls: [url],
    pid: child.pid,
    mintToken: tokenMinter(secret, url),
    serverRssBytes: () => rssFromMetrics(url),
    describe: () => ({ mode: 'embedded', command: 'node bin/missive.js serve', url, dataDir }),
    stop: () => stopChild(child, dataDir),
  };
}

async function waitReady(url: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`missive serve exited with ${child.exitCode}:\n${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
    const ready = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ready) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`missive serve not ready within 120 s:\n${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
}

/** SIGTERM lets serve stop PostgreSQL in order; SIGKILL if it hangs. */
async function stopChild(child: ChildProcess, dataDir: string): Promise<void> {
  if (child.exitCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
  stopOrphanPostgres(dataDir);
  fs.rmSync(dataDir, { recursive: true, force: true });
}

/** After a SIGKILL the embedded PostgreSQL outlives serve: its postmaster.pid names it (SIGQUIT: immediate stop). */
function stopOrphanPostgres(dataDir: string): void {
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 'SIGQUIT');
    } catch {
      // already gone
    }
  }
}

/** The embedded mode is one process and its own PostgreSQL: engines named in the caller's environment (CI exports some) stay out. */
function embeddedEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['DATABASE_URL', 'EVENTSTORE_URL', 'REDIS_URL', 'KAFKA_BROKERS']) delete env[name];
  return env;
}
