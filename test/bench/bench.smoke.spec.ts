// Smoke test of the benchmark suite: every scenario runs in quick mode with tiny sizes against a real
// `missive serve`, and must write its JSON, Markdown and SVG reports with zero loss held. It checks the
// pipeline, not the numbers (the machine running the tests is busy with other tests).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SCENARIOS = ['send-throughput', 'latency', 'fanout', 'connections', 'sync', 'rebuild'];
const TINY = ['--quick', '--seconds=1', '--hold-seconds=1', '--reps=10,5,3', '--catchup=100', '--messages=2', '--events=10000'];
// Two bench processes at once: rebuild (its own PostgreSQL) beside the client scenarios, which share one service.
const RUNS = [['rebuild'], ['--one-service', ...SCENARIOS.filter((s) => s !== 'rebuild')]];

interface Report {
  scenario: string;
  zeroLoss: { ok: boolean; details: Record<string, unknown> };
  latencyMs: Record<string, { count: number; p50: number; p99: number; max: number }>;
  headline: Record<string, unknown>;
  run: { quick: boolean; machine: { cpus: number; fsync: { ops: number } }; loadAverage: { atStart: number[]; atEnd: number[] } };
}

function runBench(outDir: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args, ...TINY, `--out=${outDir}`], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

describe('npm run bench -- --quick', () => {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'missive-bench-smoke-'));
  afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

  it('runs every scenario and writes its reports with zero loss held', { timeout: 240_000 }, async () => {
    for (const { code, stderr } of await Promise.all(RUNS.map((args) => runBench(outDir, args)))) expect(code, stderr.slice(-3000)).toBe(0);
    const date = new Date().toISOString().slice(0, 10);
    for (const scenario of SCENARIOS) {
      const base = path.join(outDir, `${date}-${scenario}`);
      const report = JSON.parse(fs.readFileSync(`${base}.json`, 'utf8')) as Report;
      expect(report.scenario).toBe(scenario);
      expect(report.zeroLoss.ok, JSON.stringify(report.zeroLoss.details)).toBe(true);
      expect(report.run.quick).toBe(true);
      expect(report.run.machine.cpus).toBeGreaterThan(0);
      expect(report.run.machine.fsync.ops).toBeGreaterThan(0);
      expect(report.run.loadAverage.atEnd).toHaveLength(3);
      // Every latency measure recorded samples, and its percentiles are ordered.
      for (const [name, p] of Object.entries(report.latencyMs)) {
        expect(p.count, name).toBeGreaterThan(0);
        expect(p.p50, name).toBeLessThanOrEqual(p.p99);
        expect(p.p99, name).toBeLessThanOrEqual(p.max);
      }
      expect(fs.readFileSync(`${base}.md`, 'utf8')).toContain('## Zero loss: held');
      expect(fs.readFileSync(`${base}.svg`, 'utf8')).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"[\s\S]*<\/svg>\n$/);
    }
    // The scenarios that measure latency measured some.
    const latency = JSON.parse(fs.readFileSync(path.join(outDir, `${date}-latency.json`), 'utf8')) as Report;
    expect(latency.latencyMs['send → hint']!.count).toBeGreaterThan(10);
  });
});
