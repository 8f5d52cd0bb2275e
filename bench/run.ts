// The `npm run bench` entry: runs the named benchmark scenarios, each in its own Node process (a fresh
// heap and JIT, and its own embedded PostgreSQL), prints each one's JSON and keeps it in
// bench/results/<YYYY-MM-DD>-<scenario>.json so a result can be compared with later runs.
//   npm run bench                         every scenario with its defaults
//   npm run bench -- rebuild lag          some of them
//   npm run bench -- rebuild=200000 lag=1000,10   with arguments (comma-separated, as the script takes them)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCENARIOS = ['appends', 'sends', 'rebuild', 'lag', 'tiers'] as const;
type Scenario = (typeof SCENARIOS)[number];

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(benchDir, 'results');

interface Request {
  scenario: Scenario;
  args: string[];
}

function parseRequests(argv: readonly string[]): Request[] {
  if (argv.length === 0) return SCENARIOS.map((scenario) => ({ scenario, args: [] }));
  return argv.map((word) => {
    const [name, argList] = word.split('=', 2) as [string, string | undefined];
    if (!(SCENARIOS as readonly string[]).includes(name)) {
      throw new Error(`Unknown scenario "${name}": choose among ${SCENARIOS.join(', ')}`);
    }
    return { scenario: name as Scenario, args: argList ? argList.split(',').filter(Boolean) : [] };
  });
}

/** Runs one scenario script; its stdout is the JSON result, its stderr (progress, errors) passes through. */
function runScript(request: Request): Promise<{ code: number | null; stdout: string; command: string }> {
  const script = path.join(benchDir, `${request.scenario}.ts`);
  const argv = ['--import', 'tsx', script, ...request.args];
  const command = `node ${argv.map((a) => path.relative(process.cwd(), a) || a).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, command }));
  });
}

async function main(): Promise<void> {
  const requests = parseRequests(process.argv.slice(2));
  fs.mkdirSync(resultsDir, { recursive: true });
  for (const request of requests) {
    const started = new Date();
    process.stderr.write(`\n== ${request.scenario} ${request.args.join(' ')}\n`);
    const { code, stdout, command } = await runScript(request);
    if (code !== 0) {
      process.stderr.write(`${request.scenario} failed (exit code ${code})\n${stdout}`);
      process.exitCode = 1;
      continue;
    }
    const result = { ...(JSON.parse(stdout) as Record<string, unknown>), run: { command, startedAt: started.toISOString(), wallSeconds: Math.round((Date.now() - started.getTime()) / 100) / 10 } };
    const file = path.join(resultsDir, `${started.toISOString().slice(0, 10)}-${request.scenario}.json`);
    fs.writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
    process.stderr.write(`written to ${path.relative(process.cwd(), file)}\n`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
});
