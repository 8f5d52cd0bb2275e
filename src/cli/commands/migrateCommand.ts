// `missive migrate`: brings the database schema up to date (idempotent; an advisory lock keeps two
// processes from migrating at once).
import type { Command } from 'commander';

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('apply the pending database migrations (safe to run again)')
    .addHelpText('after', '\nExamples:\n  $ missive migrate                     # the embedded database in MISSIVE_DATA_DIR\n  $ DATABASE_URL=postgres://missive@db/missive missive migrate')
    .action(async () => {
      const [{ loadConfig }, { migrate }, { withDatabase }] = await Promise.all([
        import('../../config/config.js'),
        import('../../db/migrate.js'),
        import('../cliContext.js'),
      ]);
      await withDatabase(loadConfig(), async (database) => {
        const applied = await migrate(database.url);
        process.stdout.write(applied.length === 0 ? 'The schema is up to date.\n' : `Applied ${applied.join(', ')}.\n`);
      });
    });
}
