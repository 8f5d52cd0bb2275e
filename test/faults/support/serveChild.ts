// A real `missive serve` child process for the fault suite: started with the environment a test gives
// (database, Redis, failpoints, roles), killed with SIGKILL or left to die at a failpoint, restarted on
// the same database. Counts the failpoints that fired from the markers the child writes to stderr.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { FAILPOINT_EXIT_CODE, FAILPOINT_MARKER } from '../../../src/failpoints/failpoints.js';
import { sharedServiceNamesOf } from '../../support/sharedServices.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
export const SECRET = 'faults-secret-at-least-16-chars';

export interface ServeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServeChild {
  child: ChildProcess;
  /** The HTTP base URL (undefined for a projector-only process). */
  base: string | undefined;
  exited: Promise<ServeExit>;
  /** Failpoint markers the child wrote so far ("<name> <action> (reach n)"). */
  firedFailpoints(): string[];
  stderr(): string;
}

/** The child died before it was ready (a failpoint can fire while the projector catches up). */
export class ServeExitedEarly extends Error {
  constructor(
    readonly exit: ServeExit,
    readonly fired: string[],
    stderr: string,
  ) {
    super(`serve exited before it was ready (${exit.code ?? exit.signal}): ${stderr.slice(-2000)}`);
  }
  get atFailpoint(): boolean {
    return this.fired.length > 0 && (this.exit.code === FAILPOINT_EXIT_CODE || this.exit.signal === 'SIGKILL');
  }
}

export interface ServeOptions {
  databaseUrl: string;
  /** HTTP port; omit for a projector-only process. */
  port?: number;
  roles?: string;
  env?: Record<string, string>;
  readyTimeoutMs?: number;
  /** Also append everything the child writes (stdout and stderr) to this file, for a post-mortem. */
  logFile?: string;
}

export async function startServe(options: ServeOptions): Promise<ServeChild> {
  const projectorOnly = options.port === undefined;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: options.databaseUrl,
      // Restarts on the same database keep their hot tier; other tests' logs never share it.
      ...sharedServiceNamesOf(options.databaseUrl),
      PORT: String(options.port ?? 0),
      HOST: '127.0.0.1',
      MISSIVE_DEV_AUTH: 'true',
      MISSIVE_JWT_SECRET: SECRET,
      // The load here runs each user as fast as the machine allows, so the default per-user limit
      // (1,200/min) would answer some sends 429 on a fast run and none on a slow one. These tests are
      // about crashes, not the limiter (test/api/*rateLimit*), which stays on, with a limit load never reaches.
      MISSIVE_RATE_LIMIT_PER_MINUTE: '1000000',
      // A projector-only process says it is serving in an info line; an API answers /healthz.
      MISSIVE_LOG_LEVEL: projectorOnly ? 'info' : 'warn',
      ...(options.roles ? { MISSIVE_ROLES: options.roles } : {}),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  if (options.logFile) {
    const file = fs.createWriteStream(options.logFile, { flags: 'a' });
    child.stdout!.on('data', (d) => file.write(d));
    child.stderr!.on('data', (d) => file.write(d));
    child.once('exit', () => file.end());
  }
  child.stderr!.on('data', (d) => (stderr += String(d)));
  child.stdout!.on('data', (d) => {
    // Keep only the tail: request logs can be long.
    stdout = (stdout + String(d)).slice(-20_000);
  });
  const exited = new Promise<ServeExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const fired = () => stderr.split('\n').filter((l) => l.startsWith(FAILPOINT_MARKER)).map((l) => l.slice(FAILPOINT_MARKER.length + 1));
  const base = projectorOnly ? undefined : `http://127.0.0.1:${options.port}`;
  let exit: ServeExit | undefined;
  void exited.then((e) => (exit = e));

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (exit) throw new ServeExitedEarly(exit, fired(), stderr);
    const ready = base ? await fetch(`${base}/healthz`).then((r) => r.ok, () => false) : stdout.includes('"missive serving"');
    if (ready) return { child, base, exited, firedFailpoints: fired, stderr: () => stderr };
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`serve did not become ready: ${stderr.slice(-2000)}`);
}

/** SIGKILL (unless already dead) and wait for the exit. */
export async function killServe(server: ServeChild | undefined): Promise<ServeExit | undefined> {
  if (!server) return undefined;
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
  return server.exited;
}
