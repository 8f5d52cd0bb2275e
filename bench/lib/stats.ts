// Latency bookkeeping: HDR histograms (hdr-histogram-js) in microseconds, one for the whole run and one
// per second of it, so a report gives both the percentiles and how they moved over time.
import * as hdr from 'hdr-histogram-js';

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export function newHistogram(): hdr.Histogram {
  // Up to 10 minutes in microseconds, 3 significant digits.
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
}

/** Percentiles in milliseconds of a histogram recorded in microseconds. */
export function percentilesMs(h: hdr.Histogram): Percentiles {
  const ms = (us: number) => Math.round(us) / 1000;
  // HDR reports a bucket's upper edge: never above the largest value actually seen.
  const at = (q: number) => ms(Math.min(h.getValueAtPercentile(q), h.maxValue));
  return {
    count: h.totalCount,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max: ms(h.maxValue),
  };
}

export interface SeriesPoint {
  /** Seconds since the series started. */
  t: number;
  /** Samples that completed in this second (throughput). */
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** One latency measure: the whole-run histogram plus one histogram per second of wall time. */
export class LatencyRecorder {
  readonly total = newHistogram();
  private readonly perSecond = new Map<number, hdr.Histogram>();

  constructor(readonly startMs: number) {}

  /** `atMs`: wall-clock time the sample completed; `valueMs`: the latency. */
  record(atMs: number, valueMs: number): void {
    const us = Math.max(1, Math.round(valueMs * 1000));
    this.total.recordValue(us);
    const second = Math.max(0, Math.floor((atMs - this.startMs) / 1000));
    let h = this.perSecond.get(second);
    if (!h) this.perSecond.set(second, (h = newHistogram()));
    h.recordValue(us);
  }

  percentiles(): Percentiles {
    return percentilesMs(this.total);
  }

  series(): SeriesPoint[] {
    return [...this.perSecond.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([t, h]) => {
        const p = percentilesMs(h);
        return { t, count: p.count, p50: p.p50, p99: p.p99, max: p.max };
      });
  }
}
