// `missive projections status|rebuild|verify`: watch lag, rebuild into shadow tables with a progress
// bar (the live version keeps serving until the atomic swap), and check read models against the log.
import { Option, type Command } from 'commander';
import { ALL_PROJECTIONS } from '../../projections/catalog.js';
import { CliInputError } from '../cliErrors.js';
import { optionParser, parsePositiveInteger } from '../parseOptions.js';

const PROJECTION_NAMES = ALL_PROJECTIONS.map((p) => p.name);

/** The projections a name argument stands for ('all' or none: every one), checked before any I/O. */
function selectProjections(name: string | undefined): string[] {
  if (name === undefined || name === 'all') return PROJECTION_NAMES;
  if (!PROJECTION_NAMES.includes(name)) {
    throw new CliInputError('unknown_projection', `unknown projection "${name}"; known: ${PROJECTION_NAMES.join(', ')} (or all)`);
  }
  return [name];
}

// The work itself is loaded when a subcommand runs: `--help` and bad input stay fast.
const tasks = () => import('../projections/projectionTasks.js');

export function registerProjectionsCommand(program: Command): void {
  const projections = program
    .command('projections')
    .description('watch, rebuild and verify the read models built from the log')
    .addHelpText('after', `\nProjections: ${PROJECTION_NAMES.join(', ')}.`);

  projections
    .command('status')
    .description('per projection: checkpoint, head position, lag in events and seconds, epoch and state')
    .option('--json', 'print JSON instead of a table')
    .addHelpText('after', '\nExamples:\n  $ missive projections status\n  $ missive projections status --json | jq \'.[] | select(.lagEvents > 0)\'')
    .action(async (options: { json?: boolean }) => {
      await (await tasks()).printStatus(options.json === true);
    });

  projections
    .command('rebuild')
    .description('rebuild from position 0 into shadow tables while the live version serves, then swap atomically and bump the epoch')
    .argument('<name>', `a projection (${PROJECTION_NAMES.join(', ')}) or all`)
    .addHelpText(
      'after',
      `
An interrupted rebuild leaves the live version untouched; running it again starts a fresh shadow.
Examples:
  $ missive projections rebuild sessions
  $ missive projections rebuild all`,
    )
    .action(async (name: string) => {
      const names = selectProjections(name);
      await (await tasks()).rebuildProjections(names);
    });

  projections
    .command('verify')
    .description('recompute projections from the log and list every difference from the live tables; exit 3 on drift')
    .argument('[name]', `a projection (${PROJECTION_NAMES.join(', ')}) or all (default)`)
    .option('--json', 'print JSON: [{ projection, differences: [...] }]')
    .addOption(new Option('--max <n>', 'differences listed per table and direction').argParser(optionParser(parsePositiveInteger)).default(20))
    .addHelpText('after', '\nExamples:\n  $ missive projections verify\n  $ missive projections verify sessions --json')
    .action(async (name: string | undefined, options: { json?: boolean; max: number }) => {
      const names = selectProjections(name);
      await (await tasks()).verifyProjections(names, { json: options.json === true, maxDifferences: options.max });
    });
}
