// Shared pieces of the benchmark scripts: a throw-away embedded PostgreSQL, latency histograms and
// a description of the machine, so every number printed says where it came from.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../src/db/embeddedPostgres.js';
import { migrate } from '../src/db/migrate.js';
import { freePort } from '../test/support/freePort.js';

export { freePort };


/** A throw-away embedded PostgreSQL; with `keepDir`, one kept there across runs (created on first use). */
export async function startBenchPostgres(keepDir?: string): Promise<EmbeddedPostgresHandle & { dataDir: string }> {
  const dataDir = keepDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'missive-bench-pg-'));
  fs.mkdirSync(dataDir, { recursive: true });
  fs.chmodSync(dataDir, 0o777);
  const handle = await startEmbeddedPostgres({ dataDir, port: await freePort(), persistent: keepDir !== undefined });
  await migrate(handle.connectionString);
  return {
    ...handle,
    dataDir,
    async stop() {
      await handle.stop();
      if (keepDir === undefined) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * CPU milliseconds used so far by an embedded cluster's processes (the postmaster, its live children,
 * and the children it has already reaped), read from /proc; undefined where /proc is not available.
 */
export function postgresCpuMs(dataDir: string): number | undefined {
  try {
    const postmaster = Number(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    const ticks = 100; // USER_HZ on Linux
    const statOf = (pid: string | number) => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').slice(0).split(') ')[1]!.split(' ');
    // Fields after "pid (comm) ": [0]=state [1]=ppid ... [11]=utime [12]=stime [13]=cutime [14]=cstime
    const own = statOf(postmaster);
    let total = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
    for (const pid of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const f = statOf(pid);
        if (Number(f[1]) === postmaster) total += Number(f[11]) + Number(f[12]);
      } catch {
        // the process ended meanwhile
      }
    }
    return (total * 1000) / ticks;
  } catch {
    return undefined;
  }
}

export function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

/** Percentiles in milliseconds from a histogram recorded in microseconds. */
export function percentilesMs(h: hdr.Histogram) {
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
  };
}

export function machine() {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAverage: os.loadavg(),
  };
}

export const microsSince = (start: bigint): number => Number(process.hrtime.bigint() - start) / 1000;
