// Writes one scenario's result three ways: bench/results/<date>-<scenario>.json (everything),
// .md (a summary a person reads) and .svg (the chart).
import fs from 'node:fs';
import path from 'node:path';
import type { Percentiles } from './stats.js';
import { renderChart, type Chart } from './svg.js';

export interface TargetCheck {
  what: string;
  target: string;
  measured: string;
  /** null: not measurable in this run (e.g. a quick run below the target's size). */
  met: boolean | null;
}

export interface ZeroLoss {
  ok: boolean;
  /** What was checked, in words. */
  checked: string;
  details: Record<string, unknown>;
}

/** What a scenario hands back; the runner adds the machine and the run's context. */
export interface ScenarioResult {
  title: string;
  params: Record<string, unknown>;
  /** Headline numbers, in the order a reader wants them. */
  headline: Record<string, string | number>;
  latencyMs: Record<string, Percentiles>;
  zeroLoss: ZeroLoss;
  targets: TargetCheck[];
  chart: Chart;
  details?: Record<string, unknown>;
  notes?: string[];
}

export interface RunContext {
  scenario: string;
  quick: boolean;
  command: string;
  startedAt: string;
  wallSeconds: number;
  loadAverage: { atStart: number[]; atEnd: number[] };
  besideTheService: string[];
  machine: Record<string, unknown>;
  service: Record<string, unknown>;
}

export function writeReport(resultsDir: string, run: RunContext, result: ScenarioResult): { json: string; md: string; svg: string } {
  fs.mkdirSync(resultsDir, { recursive: true });
  const base = path.join(resultsDir, `${run.startedAt.slice(0, 10)}-${run.scenario}`);
  const files = { json: `${base}.json`, md: `${base}.md`, svg: `${base}.svg` };
  const { chart, ...rest } = result;
  fs.writeFileSync(files.json, `${JSON.stringify({ scenario: run.scenario, ...rest, run, chart: path.basename(files.svg) }, null, 2)}\n`);
  fs.writeFileSync(files.svg, renderChart(chart));
  fs.writeFileSync(files.md, markdown(run, result, path.basename(files.svg)));
  return files;
}

const cell = (v: unknown) => String(v).replace(/\|/g, '\\|');

function markdown(run: RunContext, r: ScenarioResult, svgName: string): string {
  const m = run.machine as { cpus?: number; cpuModel?: string; memoryGiB?: number; fsync?: { p50Ms: number; p99Ms: number; tool: string }; versions?: Record<string, string> };
  const lines = [
    `# ${run.scenario}: ${r.title}`,
    '',
    `${run.quick ? '**Quick (smoke) run: sizes too small to judge against the targets.** ' : ''}Run ${run.startedAt} with \`${run.command}\` (${run.wallSeconds} s).`,
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB; fsync (8 KiB) p50 ${m.fsync?.p50Ms} ms, p99 ${m.fsync?.p99Ms} ms; ${Object.entries(m.versions ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')}.`,
    `Load average at start ${run.loadAverage.atStart.join(' / ')}, at end ${run.loadAverage.atEnd.join(' / ')} (1/5/15 min). Busiest processes at start (%cpu over their life, rss KiB, command): ${run.besideTheService.join('; ')}.`,
    `Service: ${JSON.stringify(run.service)}.`,
    '',
    '## Headline',
    '',
    '| measure | value |',
    '|---|---|',
    ...Object.entries(r.headline).map(([k, v]) => `| ${cell(k)} | ${cell(v)} |`),
    '',
    `## Zero loss: ${r.zeroLoss.ok ? 'held' : '**VIOLATED**'}`,
    '',
    r.zeroLoss.checked,
    '',
    '```json',
    JSON.stringify(r.zeroLoss.details, null, 2),
    '```',
    '',
  ];
  if (Object.keys(r.latencyMs).length > 0) {
    lines.push('## Latency (ms, HDR histogram)', '', '| measure | count | p50 | p90 | p99 | p99.9 | max |', '|---|---|---|---|---|---|---|');
    for (const [name, p] of Object.entries(r.latencyMs)) lines.push(`| ${cell(name)} | ${p.count} | ${p.p50} | ${p.p90} | ${p.p99} | ${p.p999} | ${p.max} |`);
    lines.push('');
  }
  if (r.targets.length > 0) {
    lines.push('## Against the targets', '', '| what | target | measured | met |', '|---|---|---|---|');
    for (const t of r.targets) lines.push(`| ${cell(t.what)} | ${cell(t.target)} | ${cell(t.measured)} | ${t.met === null ? 'n/a' : t.met ? 'yes' : '**no**'} |`);
    lines.push('');
  }
  lines.push('## Parameters', '', '```json', JSON.stringify(r.params, null, 2), '```', '');
  if (r.notes?.length) lines.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  lines.push(`![chart](${svgName})`, '');
  return lines.join('\n');
}
