// `missive replay`: the log as NDJSON, one full envelope per line, for auditors and analytics feeds.
import type { Command } from 'commander';
import type { DomainEventType } from '../../domain/events.js';
import { CliInputError } from '../cliErrors.js';
import { checkRange, optionParser, parseEventTypes, parseInstant, parsePosition, parsePositiveInteger } from '../parseOptions.js';
import type { ReplayQuery, ReplaySource } from '../replay/replayQuery.js';

interface ReplayOptions {
  stream?: string;
  conversation?: string;
  user?: string;
  type?: DomainEventType[];
  fromTime?: Date;
  toTime?: Date;
  fromPosition?: bigint;
  toPosition?: bigint;
  limit?: number;
}

const SOURCE_FLAGS = ['stream', 'conversation', 'user'] as const;

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('print events as NDJSON (one envelope per line) in global order, optionally filtered')
    .option('--stream <streamId>', 'only this stream (e.g. user-alice)')
    .option('--conversation <conversationId>', "only this conversation's stream")
    .option('--user <userId>', "the user's own stream plus every conversation event recorded while they were a member")
    .option('--type <types>', 'only these event types (comma list; repeatable)', optionParser(parseEventTypes, true))
    .option('--from-time <iso>', 'recorded at or after (ISO 8601, e.g. 2024-05-01T00:00:00Z)', optionParser(parseInstant))
    .option('--to-time <iso>', 'recorded at or before (ISO 8601)', optionParser(parseInstant))
    .option('--from-position <n>', 'global position at or after', optionParser(parsePosition))
    .option('--to-position <n>', 'global position at or before', optionParser(parsePosition))
    .option('--limit <n>', 'stop after this many events', optionParser(parsePositiveInteger))
    .addHelpText(
      'after',
      `
Source options (--stream, --conversation, --user) are exclusive; every other filter combines with AND.
Examples:
  $ missive replay --conversation 0190b6c2-... > conversation.ndjson
  $ missive replay --user alice --type MessageSent,MessageEdited --from-time 2024-05-01
  $ missive replay --from-position 1000 --to-position 2000 | jq .type`,
    )
    .action(async (options: ReplayOptions) => {
      const query = replayQueryFrom(options);
      const { printReplay } = await import('../replay/printReplay.js');
      await printReplay(query);
    });
}

function replayQueryFrom(options: ReplayOptions): ReplayQuery {
  const given = SOURCE_FLAGS.filter((flag) => options[flag] !== undefined);
  if (given.length > 1) throw new CliInputError('conflicting_options', `use only one of ${given.map((f) => `--${f}`).join(', ')}`);
  for (const flag of given) if (options[flag] === '') throw new CliInputError('invalid_argument', `--${flag} needs a non-empty value`);
  checkRange(options.fromTime, options.toTime, '--from-time', '--to-time');
  checkRange(options.fromPosition, options.toPosition, '--from-position', '--to-position');
  return {
    source: sourceFrom(options),
    types: options.type ? new Set(options.type) : undefined,
    fromTime: options.fromTime,
    toTime: options.toTime,
    fromPosition: options.fromPosition,
    toPosition: options.toPosition,
    limit: options.limit,
  };
}

function sourceFrom(options: ReplayOptions): ReplaySource {
  if (options.stream !== undefined) return { kind: 'stream', streamId: options.stream };
  if (options.conversation !== undefined) return { kind: 'conversation', conversationId: options.conversation };
  if (options.user !== undefined) return { kind: 'user', userId: options.user };
  return { kind: 'all' };
}
