// Runs the real `missive` CLI from source in a child process, so exit codes, stdout and stderr are
// what an operator sees. Each run costs about a second of CPU: tests keep their count modest.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, DATABASE_URL: databaseUrl, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The non-empty lines of an output. */
export const linesOf = (output: string): string[] => output.split('\n').filter((line) => line.length > 0);
