// The `missive` command tree. Every command validates its input before it touches the database, and
// reports through errors that main.ts maps to exit codes (cliErrors.ts). Command modules stay small:
// each loads the code that does its work only when it runs, so --help and bad input answer fast.
import fs from 'node:fs';
import { Command } from 'commander';
import { registerConversationCommand } from './commands/conversationCommand.js';
import { registerMigrateCommand } from './commands/migrateCommand.js';
import { registerProjectionsCommand } from './commands/projectionsCommand.js';
import { registerReplayCommand } from './commands/replayCommand.js';
import { registerServeCommand } from './commands/serveCommand.js';
import { registerTierCommand } from './commands/tierCommand.js';
import { registerTokenCommand } from './commands/tokenCommand.js';

export function buildProgram(): Command {
  const program = new Command('missive')
    .description('Missive: an event-sourced message store for instant messaging')
    .version(packageVersion())
    // Commander reports its own usage errors; exitOverride turns its process.exit into a thrown error
    // so main.ts decides the exit code. Subcommands inherit both settings.
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Configuration comes from the environment (DATABASE_URL, MISSIVE_DATA_DIR, ...; see docs/cli.md).
Exit codes: 0 success, 1 runtime failure (e.g. database unreachable), 2 bad input (nothing changed),
3 projections verify found drift.`,
    );
  registerServeCommand(program);
  registerMigrateCommand(program);
  registerReplayCommand(program);
  registerConversationCommand(program);
  registerProjectionsCommand(program);
  registerTierCommand(program);
  registerTokenCommand(program);
  return program;
}

/** The version in package.json, two levels up from this module in src/cli and in dist/cli alike. */
function packageVersion(): string {
  const manifest = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return manifest.version;
}
