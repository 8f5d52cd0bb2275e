// Runs the real `missive` CLI from source in a child process, so exit codes, stdout and stderr are
// what an operator sees. Each run costs about a second of CPU: tests keep their count modest.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Children may inherit the shared test Redis (REDIS_URL): each test process keeps its hot tier under
// its own key prefix, never the default one another run's server may be using.
const HOT_KEY_PREFIX = `{test-hot-${randomUUID()}}`;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = ['node', '--import', 'tsx', path.join(ROOT, 'src/cli/main.ts')];

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `missive <args>` against the database at `databaseUrl`; `env` adds variables (undefined removes one). */
export function runMissive(args: string[], databaseUrl: string, env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return run(CLI[0]!, [...CLI.slice(1), ...args], databaseUrl, env);
}

/** Runs a bash pipeline (with pipefail) in which `$MISSIVE` is the CLI, e.g. `$MISSIVE replay | head -n 1`. */
export function runPipeline(script: string, databaseUrl: string): Promise<CliRun> {
  return run('bash', ['-o', 'pipefail', '-c', script], databaseUrl, { MISSIVE: CLI.join(' ') });
}

function run(command: string, args: string[], databaseUrl: string, env: Record<string, string | undefined>): Promise<CliRun> {
  return collect(spawn(command, args, { cwd: ROOT, env: { ...process.env, MISSIVE_HOT_KEY_PREFIX: HOT_KEY_PREFIX, DATABASE_URL: databaseUrl, ...env } })).exited;
}

export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  /** Resolves when stdout has a line matching `pattern`; rejects if the process ends first or after `timeoutMs`. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<CliRun>;
}

/** Starts a long-running `missive <args>` (e.g. serve) with exactly this environment on top of ours. */
export function startMissive(args: string[], env: Record<string, string | undefined>): RunningCli {
  const child = spawn(CLI[0]!, [...CLI.slice(1), ...args], { cwd: ROOT, env: { ...process.env, MISSIVE_HOT_KEY_PREFIX: HOT_KEY_PREFIX, ...env } });
  return collect(child);
}

function collect(child: ChildProcessWithoutNullStreams): RunningCli {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  const waitForOutput = async (pattern: RegExp, timeoutMs = 30_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    let ended = false;
    void exited.then(() => (ended = true));
    for (;;) {
      const line = stdout.split('\n').find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (ended || Date.now() > deadline) throw new Error(`no output matching ${pattern}; stdout:\n${stdout}\nstderr:\n${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return { child, waitForOutput, exited };
}

/** The non-empty lines of an output. */
export const linesOf = (output: string): string[] => output.split('\n').filter((line) => line.length > 0);
