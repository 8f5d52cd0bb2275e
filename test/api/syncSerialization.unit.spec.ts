import fastJson from 'fast-json-stringify';
import { describe, expect, it } from 'vitest';
import { SyncDelta, SyncDeltaSerialization } from '../../src/api/schemas/resources.js';

// The sync route writes its 200 answer from SyncDeltaSerialization (tag-picked branches) instead of
// SyncDelta (anyOf, picked by validating each branch). Both must write the same JSON for every kind
// of delta item, extra fields dropped alike.
describe('sync delta serialization', () => {
  const documented = fastJson(SyncDelta);
  const fast = fastJson(SyncDeltaSerialization);
  const conversationId = '0b6f3c1e-8a52-4d5e-9c1f-2a3b4c5d6e7f';
  const delta = {
    items: [
      { type: 'item', conversationId, seq: 1, item: { messageId: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', seq: 1, senderId: 'alice', kind: 'text', body: { text: 'hi' }, sentAt: '2025-01-15T10:00:00.000Z', extra: 1 } },
      { type: 'item', conversationId, seq: 2, item: { messageId: '2c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', seq: 2, senderId: 'bob', kind: 'image', body: {}, sentAt: '2025-01-15T10:00:01.000Z', editedAt: '2025-01-15T10:00:02.000Z', recalled: true } },
      { type: 'item', conversationId, seq: 3, item: { seq: 3, kind: 'system', event: 'MembersAdded', actorId: 'alice', data: { userId: 'carol' }, at: '2025-01-15T10:00:03.000Z', messageId: 'dropped' } },
      { type: 'read', conversationId, seq: 3, deviceId: 'd1', at: '2025-01-15T10:00:04.000Z', item: 'dropped' },
      { type: 'settings', conversationId, muted: true, at: '2025-01-15T10:00:05.000Z' },
      { type: 'settings', conversationId, pinned: false, hidden: true, at: '2025-01-15T10:00:06.000Z' },
    ],
    conversations: [
      { conversationId, kind: 'group', title: 'g', lastSeq: 3, lastMessage: null, unread: 0, lastReadSeq: 3, updatedAt: '2025-01-15T10:00:03.000Z', muted: true, pinned: false, hidden: false, active: true, dissolved: false },
      { conversationId, kind: 'direct', title: 'bob', lastSeq: 2, lastMessage: { messageId: '2c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', seq: 2, senderId: 'bob', kind: 'text', text: 'x' }, unread: 1, lastReadSeq: 1, updatedAt: '2025-01-15T10:00:01.000Z', muted: false, pinned: false, hidden: false, active: true, dissolved: false },
    ],
    unreadTotal: 1,
    nextToken: 'token',
    hasMore: true,
  };

  it('writes the same JSON as the documented schema', () => {
    expect(fast(delta)).toBe(documented(delta));
    expect(fast({ ...delta, items: [], conversations: [] })).toBe(documented({ ...delta, items: [], conversations: [] }));
  });
});
