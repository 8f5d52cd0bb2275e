// The progress bar of `missive projections rebuild`, on stderr (stdout keeps the result lines):
// positions done out of the head, events per second and the ETA. cli-progress draws only on a
// terminal, so logs and pipes get the summary line alone.
import cliProgress from 'cli-progress';

export interface RebuildProgress {
  /** The callback rebuildProjection reports to: global positions done out of total. */
  onProgress(done: number, total: number): void;
  stop(): void;
}

export function createRebuildProgress(projection: string, stream: NodeJS.WriteStream = process.stderr): RebuildProgress {
  const bar = new cliProgress.SingleBar(
    {
      format: `${projection.padEnd(12)} [{bar}] {percentage}% | {value}/{total} events | {rate} events/s | ETA {eta_formatted}`,
      stream,
      hideCursor: true,
      etaBuffer: 100,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let started: { at: number; done: number } | undefined;
  const rate = (done: number): string => {
    const seconds = started ? (Date.now() - started.at) / 1000 : 0;
    return seconds > 0 ? Math.round((done - started!.done) / seconds).toString() : '-';
  };
  return {
    onProgress(done, total) {
      if (!started) {
        started = { at: Date.now(), done };
        bar.start(total, done, { rate: '-' });
        return;
      }
      if (total !== bar.getTotal()) bar.setTotal(total);
      bar.update(done, { rate: rate(done) });
    },
    stop: () => bar.stop(),
  };
}
