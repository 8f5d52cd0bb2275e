import { describe, expect, it } from 'vitest';
import { CliInputError } from '../../src/cli/cliErrors.js';
import { checkRange, optionParser, parseAsOf, parseEventTypes, parseInstant, parsePosition, parsePositiveInteger } from '../../src/cli/parseOptions.js';
import { InvalidArgumentError } from 'commander';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return error instanceof CliInputError ? error.code : 'not a CliInputError';
  }
  return undefined;
};

describe('CLI option parsers', () => {
  it('positions are non-negative integers of any size', () => {
    expect(parsePosition('0')).toBe(0n);
    expect(parsePosition('123456789012345678901')).toBe(123456789012345678901n);
    for (const bad of ['-1', '1.5', '1e3', '', ' 1', 'abc']) expect(codeOf(() => parsePosition(bad))).toBe('invalid_argument');
  });

  it('counts are positive safe integers', () => {
    expect(parsePositiveInteger('10')).toBe(10);
    for (const bad of ['0', '-3', '2.5', '99999999999999999999', 'ten']) expect(codeOf(() => parsePositiveInteger(bad))).toBe('invalid_argument');
  });

  it('instants are ISO 8601 dates, or date-times with Z or an offset, on real calendar days', () => {
    expect(parseInstant('2024-05-01').toISOString()).toBe('2024-05-01T00:00:00.000Z');
    expect(parseInstant('2024-05-01T10:00:00+08:00').toISOString()).toBe('2024-05-01T02:00:00.000Z');
    expect(parseInstant('2024-02-29T23:59:59.999Z').toISOString()).toBe('2024-02-29T23:59:59.999Z');
    for (const bad of ['2024-02-30', '2023-02-29', '2024-05-01T10:00:00', '2024-13-01', '2024-05-01T24:00Z', 'yesterday', '1714521600']) {
      expect(codeOf(() => parseInstant(bad)), bad).toBe('invalid_argument');
    }
  });

  it('event types are checked against the recorded types', () => {
    expect(parseEventTypes('MessageSent, MessageEdited')).toEqual(['MessageSent', 'MessageEdited']);
    expect(codeOf(() => parseEventTypes('MessageSent,Nope'))).toBe('unknown_event_type');
    expect(codeOf(() => parseEventTypes(' , '))).toBe('invalid_argument');
  });

  it('--as-of reads digits as a position and anything else as an instant', () => {
    expect(parseAsOf('42')).toEqual({ kind: 'position', position: 42n });
    expect(parseAsOf('2024-05-01T00:00:00Z')).toEqual({ kind: 'time', time: new Date('2024-05-01T00:00:00Z') });
    expect(codeOf(() => parseAsOf('last tuesday'))).toBe('invalid_argument');
  });

  it('a range may be open or empty-width but not reversed', () => {
    expect(() => checkRange(1n, 1n, '--from', '--to')).not.toThrow();
    expect(() => checkRange(undefined, 1n, '--from', '--to')).not.toThrow();
    expect(codeOf(() => checkRange(new Date(2), new Date(1), '--from', '--to'))).toBe('invalid_range');
  });

  it('as option parsers they raise commander errors and can accumulate', () => {
    const collect = optionParser(parseEventTypes, true);
    expect(collect('GroupCreated', collect('MessageSent', undefined))).toEqual(['MessageSent', 'GroupCreated']);
    expect(() => optionParser(parsePosition)('x')).toThrow(InvalidArgumentError);
  });
});
