// Deterministic ids must never change (stored streams and deduplication depend on them), and the
// validators must accept exactly the documented alphabets.
import { describe, expect, it } from 'vitest';
import { directConversationId, isUuid, isValidClientMsgId, isValidDeviceId, isValidUserId, messageSentEventId } from '../../src/domain/ids.js';

describe('directConversationId', () => {
  it('is the same whoever asks, and pinned forever', () => {
    expect(directConversationId('alice', 'bob')).toBe(directConversationId('bob', 'alice'));
    // Pinned (checked against an independent SHA-1 computation): a change would orphan stored conversations.
    expect(directConversationId('alice', 'bob')).toBe('e79e6f5f-ed12-520e-9ea0-c58c2dcff9c4');
  });

  it('is a canonical version-5 UUID, distinct per pair', () => {
    const id = directConversationId('u1', 'u2');
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe('5');
    const ids = new Set(['a', 'b', 'c', 'd'].flatMap((x) => ['a', 'b', 'c', 'd'].filter((y) => y !== x).map((y) => directConversationId(x, y))));
    expect(ids.size).toBe(6);
  });
});

describe('messageSentEventId', () => {
  it('is deterministic per (sender, clientMsgId), and pinned forever', () => {
    expect(messageSentEventId('alice', 'c-1')).toBe(messageSentEventId('alice', 'c-1'));
    expect(messageSentEventId('alice', 'c-1')).not.toBe(messageSentEventId('bob', 'c-1'));
    expect(messageSentEventId('alice', 'c-1')).not.toBe(messageSentEventId('alice', 'c-2'));
    expect(messageSentEventId('alice', 'c-1')).toBe('eb6beda1-5766-5854-b788-4388435692e5');
  });
});

describe('validators', () => {
  it('accept user ids of 1 to 64 letters, digits and _ . @ -', () => {
    for (const ok of ['a', 'Alice_1', 'a.b@c-d', 'x'.repeat(64)]) expect(isValidUserId(ok)).toBe(true);
    for (const bad of ['', 'x'.repeat(65), 'a b', 'a:b', 'é', 'a/b', 42, null]) expect(isValidUserId(bad)).toBe(false);
  });

  it('accept only canonical lowercase UUIDs', () => {
    expect(isUuid('018f3a2b-7c4d-7e5f-8a6b-9c0d1e2f3a4b')).toBe(true);
    for (const bad of ['018F3A2B-7C4D-7E5F-8A6B-9C0D1E2F3A4B', '018f3a2b7c4d7e5f8a6b9c0d1e2f3a4b', '{018f3a2b-7c4d-7e5f-8a6b-9c0d1e2f3a4b}', '', 1]) {
      expect(isUuid(bad)).toBe(false);
    }
  });

  it('accept clientMsgIds and device ids of 1 to 64 printable ASCII characters without spaces', () => {
    for (const check of [isValidClientMsgId, isValidDeviceId]) {
      for (const ok of ['!', 'a:b/c?d', '~'.repeat(64)]) expect(check(ok)).toBe(true);
      for (const bad of ['', ' ', 'a b', 'x'.repeat(65), 'é', '\u007f', undefined]) expect(check(bad)).toBe(false);
    }
  });
});
