// `missive conversation <id> --as-of <time|position>`: a conversation as it stood at a past moment.
import { Option, type Command } from 'commander';
import { CliInputError } from '../cliErrors.js';
import { optionParser, parseAsOf, type AsOf } from '../parseOptions.js';
import type { ConversationFormat } from '../asOf/printConversationAsOf.js';

interface ConversationOptions {
  asOf: AsOf;
  format: ConversationFormat;
}

export function registerConversationCommand(program: Command): void {
  program
    .command('conversation')
    .description('show a conversation as it stood at a moment: members and roles, messages as edited/recalled then, read marks')
    .argument('<conversationId>', 'the conversation id')
    .addOption(
      new Option('--as-of <time|position>', 'an ISO 8601 time (e.g. 2024-05-01T12:00:00Z) or a global position (digits)')
        .argParser(optionParser(parseAsOf))
        .makeOptionMandatory(),
    )
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'table']).default('json'))
    .addHelpText(
      'after',
      `
Examples:
  $ missive conversation 0190b6c2-7d1e-7c3a-9f0e-2b5d8f1a4c21 --as-of 2024-05-01T12:00:00Z
  $ missive conversation 0190b6c2-7d1e-7c3a-9f0e-2b5d8f1a4c21 --as-of 1234 --format table`,
    )
    .action(async (conversationId: string, options: ConversationOptions) => {
      if (conversationId.trim() === '') throw new CliInputError('invalid_argument', 'the conversation id cannot be empty');
      const { printConversationAsOf } = await import('../asOf/printConversationAsOf.js');
      await printConversationAsOf(conversationId, options.asOf, options.format);
    });
}
