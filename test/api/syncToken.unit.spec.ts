// The opaque sync token: any cursor survives a round trip; anything we did not issue is refused with
// the typed invalid_sync_token error, never passed on half-parsed.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeSyncToken, encodeSyncToken, InvalidSyncTokenError, MAX_SYNC_TOKEN_LENGTH } from '../../src/api/syncToken.js';

const counter = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const cursor = fc.record({ inboxSeq: counter, groups: fc.dictionary(fc.uuid({ version: 7 }), counter, { maxKeys: 5 }), epoch: counter });
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function refusal(token: string): unknown {
  try {
    decodeSyncToken(token);
  } catch (error) {
    return error;
  }
  return null;
}

describe('sync token', () => {
  it('round-trips every cursor as URL-safe text', () => {
    fc.assert(
      fc.property(cursor, (c) => {
        const token = encodeSyncToken(c);
        expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(decodeSyncToken(token)).toEqual(c);
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'abc+/='],
    ['not JSON', b64('hello')],
    ['JSON of another shape', b64({ a: 1 })],
    ['a negative seq', b64({ inboxSeq: -1, groups: {}, epoch: 1 })],
    ['a fractional seq', b64({ inboxSeq: 1.5, groups: {}, epoch: 1 })],
    ['an unsafe integer', b64({ inboxSeq: 2 ** 60, groups: {}, epoch: 1 })],
    ['an unknown field', b64({ inboxSeq: 1, groups: {}, epoch: 1, admin: true })],
    ['a group key that is not a conversation id', b64({ inboxSeq: 1, groups: { x: 1 }, epoch: 1 })],
    ['an array', b64([1, 2, 3])],
    ['too long', 'A'.repeat(MAX_SYNC_TOKEN_LENGTH + 1)],
  ])('refuses %s', (_label, token) => {
    const error = refusal(token);
    expect(error).toBeInstanceOf(InvalidSyncTokenError);
    expect((error as InvalidSyncTokenError).code).toBe('invalid_sync_token');
  });
});
