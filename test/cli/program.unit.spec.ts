// The command tree itself, in process: every command has a description and --help text, and the
// error classes map to the documented exit codes.
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { CliInputError, describeError, exitCodeFor, ProjectionDriftError } from '../../src/cli/cliErrors.js';
import { buildProgram } from '../../src/cli/program.js';
import { ConfigError } from '../../src/config/config.js';
import { UnknownProjectionError } from '../../src/projections/errors.js';
import { StoreUnavailableError } from '../../src/store/eventStore.js';

const leafCommands = (command: Command): Command[] =>
  command.commands.length === 0 ? [command] : command.commands.flatMap((sub) => leafCommands(sub));

describe('the missive command tree', () => {
  it('has every documented command, each with a description and examples in its help', () => {
    const leaves = leafCommands(buildProgram());
    const names = leaves.map((c) => [c.parent?.name() === 'missive' ? '' : `${c.parent?.name()} `, c.name()].join(''));
    expect(names.sort()).toEqual(['conversation', 'migrate', 'projections rebuild', 'projections status', 'projections verify', 'replay', 'serve', 'tier run', 'token']);
    for (const command of leaves) {
      expect(command.description(), command.name()).not.toBe('');
      let help = '';
      command.configureOutput({ writeOut: (text) => (help += text) });
      command.outputHelp();
      expect(help, command.name()).toMatch(/Usage: missive /);
      expect(help, command.name()).toMatch(/Examples?:\n\s+\$ missive /);
    }
  });

  it('maps errors to exit codes: 0 help, 1 runtime, 2 bad input, 3 drift', () => {
    expect(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', ''))).toBe(0);
    expect(exitCodeFor(new CommanderError(1, 'commander.unknownOption', ''))).toBe(2);
    expect(exitCodeFor(new CliInputError('invalid_range', 'x'))).toBe(2);
    expect(exitCodeFor(new ConfigError('x'))).toBe(2);
    expect(exitCodeFor(new UnknownProjectionError('x'))).toBe(2);
    expect(exitCodeFor(new ProjectionDriftError(['inbox']))).toBe(3);
    expect(exitCodeFor(new StoreUnavailableError('down'))).toBe(1);
    expect(exitCodeFor(new TypeError('bug'))).toBe(1);
    expect(describeError(new CliInputError('unknown_user', 'no user bob'))).toBe('error (unknown_user): no user bob');
    expect(describeError(new CommanderError(1, 'commander.unknownOption', 'printed by commander'))).toBeUndefined();
  });
});
