// The tiering job (`missive tier run`, and on a schedule inside `serve`): evicts hot entries past age
// or count, then drops warm partitions past retention that the log still covers.
import type pg from 'pg';
import type { EventStore } from '../store/eventStore.js';
import type { EvictResult, HotStore } from './hotStore.js';
import { dropExpiredPartitions, type RetentionResult } from './warmRetention.js';

export interface TierSettings {
  /** Items kept per conversation in the hot tier. */
  hotItems: number;
  /** Hot items older than this are evicted, days. */
  hotMaxAgeDays: number;
  /** Warm month partitions that ended longer ago than this are dropped, days. */
  warmRetentionDays: number;
}

export interface TierJobReport {
  /** null when this process has no hot tier to evict from. */
  hot: EvictResult | null;
  warm: RetentionResult;
  durationMs: number;
}

export interface TierJobDeps {
  pool: pg.Pool;
  store: EventStore;
  hot?: HotStore;
  settings: TierSettings;
}

const DAY_MS = 24 * 3600 * 1000;

export async function runTierJob(deps: TierJobDeps, options: { now?: number; dryRun?: boolean } = {}): Promise<TierJobReport> {
  const started = Date.now();
  const now = options.now ?? Date.now();
  const { settings } = deps;
  const hot =
    deps.hot && !options.dryRun ? await deps.hot.evict({ maxItems: settings.hotItems, olderThanMs: now - settings.hotMaxAgeDays * DAY_MS }) : null;
  const warm = await dropExpiredPartitions(deps.pool, deps.store, { retentionDays: settings.warmRetentionDays, now, dryRun: options.dryRun });
  return { hot, warm, durationMs: Date.now() - started };
}

/** Runs the job every `intervalMs` (never two at once); failures are logged, the next run retries. */
export function scheduleTierJob(
  deps: TierJobDeps,
  intervalMs: number,
  log: { info(obj: object, msg?: string): void; error(obj: object, msg?: string): void },
): { stop(): Promise<void> } {
  let running: Promise<void> | null = null;
  const tick = () => {
    if (running) return;
    running = runTierJob(deps)
      .then((report) => log.info({ tier: report }, 'tiering job done'))
      .catch((err: unknown) => log.error({ err }, 'tiering job failed'))
      .finally(() => (running = null));
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
