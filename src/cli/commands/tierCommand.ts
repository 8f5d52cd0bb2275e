// `missive tier run`: the tiering job once (DESIGN.md §6, docs/tiers.md): evict hot entries past age
// or count, drop warm month partitions past retention that the log still covers.
import type { Command } from 'commander';

export function registerTierCommand(program: Command): void {
  const tier = program.command('tier').description('history tiers: hot (Redis or memory), warm (PostgreSQL), cold (the log)');
  tier
    .command('run')
    .description('evict hot entries past age or count, drop warm partitions past retention (after checking the log covers them)')
    .option('--dry-run', 'report the warm partitions that would be dropped; change nothing')
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      `
Settings: MISSIVE_HOT_ITEMS (200), MISSIVE_HOT_MAX_AGE_DAYS (7), MISSIVE_WARM_RETENTION_DAYS (90).
The hot tier is evicted here only when REDIS_URL is set; an in-memory hot tier lives inside
\`missive serve\`, which runs this job itself every MISSIVE_TIER_INTERVAL_SECONDS.
Examples:
  $ missive tier run --dry-run
  $ missive tier run --json`,
    )
    .action(async (options: { dryRun?: boolean; json?: boolean }) => {
      const { runTierCommand } = await import('../tier/runTier.js');
      await runTierCommand({ dryRun: options.dryRun === true, json: options.json === true });
    });
}
