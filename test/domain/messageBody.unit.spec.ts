// Body size is measured in UTF-8 bytes of the JSON without encoding it: checked against Node's own
// encoder on arbitrary strings, lone surrogates included.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkMessageBody, utf8ByteLength, utf8JsonSizeWithin } from '../../src/domain/messageBody.js';

describe('utf8ByteLength', () => {
  it('equals the size of the string encoded as UTF-8', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.oneof(fc.constantFrom('a', 'é', '€', '😀', '\ud800', '\udfff'), fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n))) }), (s) => {
        expect(utf8ByteLength(s)).toBe(Buffer.byteLength(s, 'utf8'));
      }),
      { numRuns: 500 },
    );
  });

  it('gives up early only when the limit is exceeded', () => {
    expect(utf8JsonSizeWithin('€€', 6)).toBe(6);
    expect(utf8JsonSizeWithin('€€', 5)).toBeUndefined();
    expect(utf8JsonSizeWithin('aaaaaa', 5)).toBeUndefined();
  });
});

describe('checkMessageBody', () => {
  it('accepts plain JSON objects, null-prototype ones included, and nesting up to the depth limit', () => {
    expect(checkMessageBody(Object.assign(Object.create(null), { a: 1 }), 100)).toBeUndefined();
    let nested: Record<string, unknown> = {};
    for (let i = 0; i < 31; i++) nested = { n: nested };
    expect(checkMessageBody(nested, 1000)).toBeUndefined();
    expect(checkMessageBody({ n: nested }, 1000)?.details).toEqual({ reason: 'too_deep' });
  });

  it('names what is wrong', () => {
    expect(checkMessageBody([], 100)?.details).toEqual({ reason: 'not_an_object' });
    expect(checkMessageBody({ a: [1, , 3] }, 100)?.details).toEqual({ reason: 'not_plain_json' });
    expect(checkMessageBody({ a: 10n }, 100)?.details).toEqual({ reason: 'not_plain_json' });
    expect(checkMessageBody({ a: Infinity }, 100)?.details).toEqual({ reason: 'not_finite_number' });
    expect(checkMessageBody({ a: new Map() }, 100)?.details).toEqual({ reason: 'not_plain_json' });
  });
});
