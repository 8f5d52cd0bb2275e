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


export async function startBenchPostgres(): Promise<EmbeddedPostgresHandle & { dataDir: string }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'missive-bench-pg-'));
  fs.chmodSync(dataDir, 0o777);
  const handle = await startEmbeddedPostgres({ dataDir, port: await freePort(), persistent: false });
  await migrate(handle.connectionString);
  return {
    ...handle,
    dataDir,
    async stop() {
      await handle.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
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
