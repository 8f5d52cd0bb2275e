// rebuild: events/s rebuilding every projection from a large log. Reuses bench/rebuild.ts (which writes
// a realistic log through the domain deciders into its own embedded PostgreSQL, then rebuilds each
// projection as `missive projections rebuild` does) in a child process, and reports its result.
// Flag: --events (1,000,000; quick 10,000, the script's minimum).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { numberFlag, type Scenario } from '../lib/scenario.js';

interface RebuildOutput {
  headPosition: string;
  log: { events: number; seconds: number; eventsPerSecond: number; byType: Record<string, number> };
  rebuild: {
    projections: Record<string, { events: number; durationMs: number; eventsPerSecond: number; benchProcessCpuMs: number }>;
    all: { durationMs: number; eventsPerSecond: number };
    target: { slowest: string };
  };
}

function runRebuildScript(events: number): Promise<RebuildOutput> {
  const script = path.resolve(import.meta.dirname, '../rebuild.ts');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, String(events)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`bench/rebuild.ts exited with ${code}`));
      try {
        resolve(JSON.parse(stdout) as RebuildOutput);
      } catch (error) {
        reject(new Error(`bench/rebuild.ts printed no JSON: ${stdout.slice(0, 500)}`, { cause: error }));
      }
    });
  });
}

export const rebuildScenario: Scenario = {
  name: 'rebuild',
  needsService: false,
  async run(ctx) {
    const events = numberFlag(ctx, 'events', 1_000_000, 10_000);
    ctx.log(`writing a ${events}-event log and rebuilding every projection (progress from bench/rebuild.ts below)`);
    const out = await runRebuildScript(events);
    const projections = Object.entries(out.rebuild.projections);
    const slowest = [...projections].sort((a, b) => a[1].eventsPerSecond - b[1].eventsPerSecond)[0]!;
    // Every projection must have gone through the whole log: an event skipped is a view that lies.
    const short = projections.filter(([, p]) => p.events !== out.log.events).map(([name, p]) => `${name}: ${p.events} of ${out.log.events}`);
    return {
      title: `rebuilding every projection from a ${out.log.events}-event log`,
      params: { events },
      headline: {
        'log written (events/s)': out.log.eventsPerSecond,
        'all projections, one after another (events/s)': out.rebuild.all.eventsPerSecond,
        [`slowest: ${slowest[0]} (events/s)`]: slowest[1].eventsPerSecond,
        ...Object.fromEntries(projections.map(([name, p]) => [`${name} (events/s)`, p.eventsPerSecond])),
      },
      latencyMs: {},
      zeroLoss: {
        ok: short.length === 0,
        checked: 'Each projection rebuild replayed every event of the log (its event count equals the log\'s), ending at the head position.',
        details: { logEvents: out.log.events, headPosition: out.headPosition, projectionsShort: short },
      },
      targets: [{ what: 'rebuild events/s (slowest projection)', target: '≥ 20,000', measured: `${slowest[1].eventsPerSecond} (${slowest[0]})`, met: ctx.quick ? null : slowest[1].eventsPerSecond >= 20_000 }],
      chart: { kind: 'bars', title: `rebuild throughput per projection (${out.log.events} events)`, unit: 'events/s', bars: [{ label: 'log written', value: out.log.eventsPerSecond }, ...projections.map(([name, p]) => ({ label: name, value: p.eventsPerSecond }))] },
      details: out as unknown as Record<string, unknown>,
      notes: ['Runs on its own embedded PostgreSQL in-process (not through missive serve): a rebuild is an operator command, not client traffic.'],
    };
  },
};
