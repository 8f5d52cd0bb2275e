// `npm run bench` — the benchmark suite. Each scenario starts the service (embedded by default: `node
// bin/missive.js serve` on a free loopback port with a throw-away data directory; distributed: the
// nodes in MISSIVE_BENCH_URLS), drives it with real HTTP and WebSocket clients from forked load
// processes, checks zero loss, and writes bench/results/<date>-<scenario>.{json,md,svg}.
//   npm run bench                                   the whole suite (about 13 minutes on 2 quiet cores, estimated)
//   npm run bench -- latency fanout                 some scenarios
//   npm run bench -- --quick                        smoke sizes (seconds each)
//   npm run bench -- latency --rate=2000 --seconds=60     scenario flags (see each scenario's header)
//   npm run bench -- --out=/tmp/results             another results directory
//   npm run bench -- latency --profile              also write a CPU profile of the service (results/profiles/)
//   npm run bench -- --quick --one-service          one service for every scenario (smoke runs: saves a
//                                                   PostgreSQL start per scenario; users never overlap)
// The older in-process micro-benchmarks stay available by name: appends, sends, lag, tiers (JSON only).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJsonClient } from './lib/http.js';
import { busiestProcesses, loadAverage, machine, probeFsync, type FsyncProbe } from './lib/machine.js';
import { writeReport } from './lib/report.js';
import type { Scenario } from './lib/scenario.js';
import { startTarget, type Target } from './lib/target.js';
import { connectionsScenario } from './scenarios/connections.js';
import { fanoutScenario } from './scenarios/fanout.js';
import { latencyScenario } from './scenarios/latency.js';
import { rebuildScenario } from './scenarios/rebuild.js';
import { sendThroughputScenario } from './scenarios/sendThroughput.js';
import { syncScenario } from './scenarios/sync.js';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const SCENARIOS: Scenario[] = [sendThroughputScenario, latencyScenario, fanoutScenario, connectionsScenario, syncScenario, rebuildScenario];
const MICRO = ['appends', 'sends', 'lag', 'tiers'];

interface Args {
  names: string[];
  quick: boolean;
  oneService: boolean;
  profileDir: string | undefined;
  flags: Record<string, string>;
  outDir: string;
}

function parseArgs(argv: readonly string[]): Args {
  const names: string[] = [];
  const flags: Record<string, string> = {};
  for (const word of argv) {
    if (word.startsWith('--')) {
      const [key, value] = word.slice(2).split('=', 2) as [string, string | undefined];
      flags[key] = value ?? 'true';
    } else names.push(word);
  }
  const known = [...SCENARIOS.map((s) => s.name), ...MICRO];
  for (const name of names) {
    const [base, argList] = name.split('=', 2) as [string, string | undefined];
    if (!known.includes(base)) throw new Error(`Unknown scenario "${name}": choose among ${known.join(', ')}`);
    // name=args is the micro-benchmarks' syntax; scenarios take --flags.
    if (argList !== undefined && !MICRO.includes(base)) throw new Error(`"${name}": give scenario settings as flags, e.g. npm run bench -- rebuild --events=200000`);
  }
  const { quick, out, 'one-service': oneService, profile, ...rest } = flags;
  const outDir = path.resolve(out ?? path.join(benchDir, 'results'));
  return {
    profileDir: profile === 'true' ? path.join(outDir, 'profiles') : undefined,
    names: names.length ? names : SCENARIOS.map((s) => s.name),
    quick: quick === 'true',
    oneService: oneService === 'true',
    flags: rest,
    outDir,
  };
}

/** The older micro-benchmarks: a script whose stdout is its JSON result, kept as results/<date>-<name>-micro.json. */
function runMicro(word: string, outDir: string): Promise<number | null> {
  const [name, argList] = word.split('=', 2) as [string, string | undefined];
  const argv = ['--import', 'tsx', path.join(benchDir, `${name}.ts`), ...(argList ? argList.split(',') : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      process.stdout.write(chunk);
    });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0 && stdout.trim()) {
        fs.mkdirSync(outDir, { recursive: true });
        fs.writeFileSync(path.join(outDir, `${new Date().toISOString().slice(0, 10)}-${name}-micro.json`), stdout);
      }
      resolve(code);
    });
  });
}

let running: Target | undefined;
/** With --one-service: the service every scenario shares, started with all their settings. */
let shared: Target | undefined;

async function runScenario(scenario: Scenario, args: Args, fsync: FsyncProbe): Promise<boolean> {
  const startedAt = new Date();
  const atStart = loadAverage();
  const beside = busiestProcesses();
  process.stderr.write(`\n== ${scenario.name}${args.quick ? ' (quick)' : ''}\n`);
  const target = scenario.needsService === false ? undefined : (shared ?? (await startTarget({ env: scenario.serviceEnv?.(args.quick, args.flags), profileDir: args.profileDir })));
  running = target;
  const client = createJsonClient(target?.urls[0] ?? 'http://127.0.0.1:9', { maxSockets: 32 });
  try {
    const result = await scenario.run({
      target: target!,
      quick: args.quick,
      flags: args.flags,
      client,
      log: (message) => process.stderr.write(`[${scenario.name}] ${message}\n`),
    });
    const command = ['npm run bench --', scenario.name, ...(args.quick ? ['--quick'] : []), ...Object.entries(args.flags).map(([k, v]) => `--${k}=${v}`)].join(' ');
    const files = writeReport(args.outDir, {
      scenario: scenario.name,
      quick: args.quick,
      command,
      startedAt: startedAt.toISOString(),
      wallSeconds: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
      loadAverage: { atStart, atEnd: loadAverage() },
      besideTheService: beside,
      machine: machine(fsync),
      service: target?.describe() ?? { mode: 'in-process PostgreSQL (bench/rebuild.ts)' },
    }, result);
    process.stderr.write(`[${scenario.name}] zero loss ${result.zeroLoss.ok ? 'held' : 'VIOLATED'}; ${JSON.stringify(result.headline)}\n[${scenario.name}] written ${path.relative(process.cwd(), files.md)} (+ .json, .svg)\n`);
    return result.zeroLoss.ok;
  } finally {
    client.close();
    if (target !== shared) await target?.stop();
    running = undefined;
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const fsync = probeFsync();
  if (args.oneService) {
    const env = Object.assign({}, ...SCENARIOS.filter((s) => args.names.includes(s.name)).map((s) => s.serviceEnv?.(args.quick, args.flags) ?? {})) as Record<string, string>;
    shared = await startTarget({ env, profileDir: args.profileDir });
  }
  try {
    await runAll(args, fsync);
  } finally {
    await shared?.stop();
  }
}

async function runAll(args: Args, fsync: FsyncProbe): Promise<void> {
  for (const name of args.names) {
    if (MICRO.includes(name.split('=')[0]!)) {
      if ((await runMicro(name, args.outDir)) !== 0) process.exitCode = 1;
      continue;
    }
    const scenario = SCENARIOS.find((s) => s.name === name)!;
    try {
      if (!(await runScenario(scenario, args, fsync))) process.exitCode = 1;
    } catch (error) {
      process.stderr.write(`[${name}] FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void Promise.all([running?.stop(), shared?.stop()]).finally(() => process.exit(130));
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 2;
});
