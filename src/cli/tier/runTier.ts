// The work behind `missive tier run`, on the configured database (and Redis, when configured).
import { loadConfig } from '../../config/config.js';
import { runTierJob, type TierJobReport } from '../../tiers/tierJob.js';
import { openHotStore } from '../../tiers/openHotStore.js';
import { withCliContext } from '../cliContext.js';

const print = (text: string) => process.stdout.write(`${text}\n`);

export function runTierCommand(options: { dryRun: boolean; json: boolean }): Promise<void> {
  const config = loadConfig();
  return withCliContext(config, async ({ pool, store }) => {
    const hot = config.redisUrl ? await openHotStore(config) : undefined;
    try {
      const report = await runTierJob({ pool, store, hot, settings: config.tiers }, { dryRun: options.dryRun });
      print(options.json ? JSON.stringify(report, null, 2) : renderReport(report, options.dryRun));
    } finally {
      await hot?.close();
    }
  });
}

function renderReport(report: TierJobReport, dryRun: boolean): string {
  const lines = [
    report.hot
      ? `hot: evicted ${report.hot.itemsEvicted} items, dropped ${report.hot.conversationsDropped} idle conversations`
      : dryRun
        ? 'hot: unchanged (dry run)'
        : 'hot: no REDIS_URL (an in-memory hot tier is evicted by missive serve itself)',
    `warm: dropped ${report.warm.dropped.length} partition(s)${report.warm.dropped.length ? `: ${report.warm.dropped.join(', ')}` : ''}`,
    ...report.warm.kept.map((k) => `warm: kept ${k.partition}: ${k.reason}`),
    `done in ${report.durationMs} ms`,
  ];
  return lines.join('\n');
}
