// `missive serve` as a real child process on loopback, for tests and benchmarks that run several nodes
// against one PostgreSQL (and Redis): started from the TypeScript sources with tsx, ready once /readyz
// answers 200, with small HTTP and WebSocket helpers.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from './freePort.js';
import { sharedServiceNamesOf } from './sharedServices.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const NODE_JWT_SECRET = 'gateway-cluster-secret-16+';

export interface ServeNode {
  child: ChildProcess;
  port: number;
  base: string;
  wsUrl: string;
  /** What the process wrote to stderr so far (for failure messages). */
  stderr(): string;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM (a clean shutdown), then waits for the exit, SIGKILL after timeoutMs. */
  stop(timeoutMs?: number): Promise<void>;
}

export async function startServeNode(env: Record<string, string>, readyTimeoutMs = 60_000): Promise<ServeNode> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', MISSIVE_DEV_AUTH: 'true', MISSIVE_JWT_SECRET: NODE_JWT_SECRET, MISSIVE_LOG_LEVEL: 'warn', ...serviceNamesOf(env), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = `http://127.0.0.1:${port}`;
  const node: ServeNode = {
    child,
    port,
    base,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    stderr: () => stderr,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
  for (const deadline = Date.now() + readyTimeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}: ${stderr}`);
    if (await fetch(`${base}/readyz`).then((r) => r.ok, () => false)) return node;
  }
  await node.kill();
  throw new Error(`serve did not become ready within ${readyTimeoutMs} ms: ${stderr}`);
}

export async function callApi(base: string, token: string | null, method: string, url: string, body?: unknown) {
  const res = await fetch(base + url, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as any };
}

export const devToken = async (base: string, userId: string): Promise<string> =>
  (await callApi(base, null, 'POST', '/v1/dev/token', { userId })).body.token as string;

export const serviceNamesOf = (env: Record<string, string>): Record<string, string> => sharedServiceNamesOf(env.DATABASE_URL);
