// Parsers for the values operators type: positions, counts, instants, event types and --as-of. Each
// either returns a typed value or throws CliInputError, so every command rejects bad input the same
// way and before it opens the database.
import { InvalidArgumentError } from 'commander';
import { CONVERSATION_EVENT_TYPES, USER_EVENT_TYPES, type DomainEventType } from '../domain/events.js';
import { CliInputError } from './cliErrors.js';

export const KNOWN_EVENT_TYPES: readonly DomainEventType[] = [...CONVERSATION_EVENT_TYPES, ...USER_EVENT_TYPES];

const DIGITS = /^\d+$/;
// A calendar date, optionally with a time that then must carry Z or an offset: an audit query must not
// depend on the time zone of the machine it runs on.
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/;

/** A global position: a non-negative integer (0 means "before the first event"). */
export function parsePosition(value: string): bigint {
  if (!DIGITS.test(value)) throw new CliInputError('invalid_argument', `"${value}" is not a position (a non-negative integer)`);
  return BigInt(value);
}

/** A count such as --limit or --ttl: a positive safe integer. */
export function parsePositiveInteger(value: string): number {
  const n = Number(value);
  if (!DIGITS.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new CliInputError('invalid_argument', `"${value}" is not a positive integer`);
  }
  return n;
}

/** An ISO 8601 instant: 2024-05-01 (midnight UTC) or 2024-05-01T10:00:00Z / ...+08:00; calendar-checked. */
export function parseInstant(value: string): Date {
  const match = ISO_INSTANT.exec(value);
  const time = Date.parse(value);
  if (!match || Number.isNaN(time)) {
    throw new CliInputError('invalid_argument', `"${value}" is not an ISO 8601 time (e.g. 2024-05-01 or 2024-05-01T10:00:00Z; a time needs Z or an offset)`);
  }
  // Date.parse rolls 2024-02-30 over to March 1st: compare the calendar date it understood.
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  const valid = calendar.getUTCFullYear() === year && calendar.getUTCMonth() === month - 1 && calendar.getUTCDate() === day;
  const [hours, minutes, seconds] = [Number(match[4] ?? 0), Number(match[5] ?? 0), Number(match[6] ?? 0)];
  if (!valid || hours > 23 || minutes > 59 || seconds > 59) throw new CliInputError('invalid_argument', `"${value}" is not a valid date and time`);
  return new Date(time);
}

/** Event types from a comma list, checked against the types Missive records. */
export function parseEventTypes(value: string): DomainEventType[] {
  const names = value.split(',').map((t) => t.trim()).filter(Boolean);
  if (names.length === 0) throw new CliInputError('invalid_argument', 'an event type list cannot be empty');
  const unknown = names.filter((t) => !(KNOWN_EVENT_TYPES as readonly string[]).includes(t));
  if (unknown.length > 0) {
    throw new CliInputError('unknown_event_type', `unknown event type(s) ${unknown.join(', ')}; known: ${KNOWN_EVENT_TYPES.join(', ')}`);
  }
  return names as DomainEventType[];
}

/** The moment of `conversation --as-of`: digits are a global position, anything else an ISO instant. */
export type AsOf = { kind: 'position'; position: bigint } | { kind: 'time'; time: Date };

export function parseAsOf(value: string): AsOf {
  if (DIGITS.test(value)) return { kind: 'position', position: BigInt(value) };
  return { kind: 'time', time: parseInstant(value) };
}

/** Rejects a range whose start lies after its end. */
export function checkRange<T extends bigint | Date>(from: T | undefined, to: T | undefined, fromFlag: string, toFlag: string): void {
  if (from === undefined || to === undefined || from <= to) return;
  const show = (v: T) => (v instanceof Date ? v.toISOString() : v.toString());
  throw new CliInputError('invalid_range', `${fromFlag} (${show(from)}) is after ${toFlag} (${show(to)})`);
}

/**
 * Adapts a parser for commander's argParser: its message then names the option. `accumulate` makes a
 * repeatable option collect every occurrence.
 */
export function optionParser<T>(parse: (value: string) => T): (value: string) => T;
export function optionParser<T>(parse: (value: string) => T[], accumulate: true): (value: string, previous: T[] | undefined) => T[];
export function optionParser<T>(parse: (value: string) => T | T[], accumulate?: true) {
  return (value: string, previous: T[] | undefined) => {
    try {
      const parsed = parse(value);
      return accumulate ? [...(previous ?? []), ...(parsed as T[])] : parsed;
    } catch (error) {
      if (error instanceof CliInputError) throw new InvalidArgumentError(error.message);
      throw error;
    }
  };
}
