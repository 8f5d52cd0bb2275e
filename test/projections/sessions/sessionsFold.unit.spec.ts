import { describe, expect, it } from 'vitest';
import type { OrderedFact } from '../../../src/projections/fold/batchFacts.js';
import type { ConversationFact, UserFact } from '../../../src/projections/fold/eventFacts.js';
import { createMembershipTracker, type FanoutMode, type TrackedConversation } from '../../../src/projections/fold/membershipFold.js';
import { foldSessionsBatch, rowKey, type SessionConversation, type SessionMemberRow } from '../../../src/projections/sessions/sessionsFold.js';

const AT = '2025-01-01T00:00:00.000Z';
const conv = (seq: number, type: ConversationFact['type'], data: Record<string, unknown>, conversationId = 'c'): OrderedFact => ({
  stream: 'conversation',
  fact: { conversationId, seq, position: BigInt(seq), type, data, actorId: 'x', at: AT },
});
const user = (userId: string, type: UserFact['type'], data: Record<string, unknown>, conversationId = 'c'): OrderedFact => ({
  stream: 'user',
  fact: { userId, conversationId, position: 0n, type, data, at: AT },
});
const sent = (seq: number, senderId: string) => conv(seq, 'MessageSent', { messageId: `m${seq}`, senderId, kind: 'text', body: { text: `t${seq}` } });

const stored = (lastSeq: number): SessionConversation => ({
  conversationId: 'c',
  kind: 'group',
  name: 'g',
  directMembers: null,
  lastSeq,
  lastMessage: null,
  updatedAt: AT,
  dissolved: false,
});
const row = (userId: string, lastReadSeq = 0): SessionMemberRow => ({
  userId,
  conversationId: 'c',
  active: true,
  lastReadSeq,
  muted: false,
  pinned: false,
  hidden: false,
  frozen: null,
  isNew: false,
});

function fold(ordered: OrderedFact[], members: string[], mode: FanoutMode, limit: number, rows: SessionMemberRow[] = []) {
  const tracked: TrackedConversation = {
    conversationId: 'c',
    memberCount: members.length,
    mode,
    open: new Map(members.map((m) => [m, 1])),
    complete: true,
  };
  return foldSessionsBatch({
    ordered,
    conversations: new Map([['c', stored(10)]]),
    rows: new Map(rows.map((r) => [rowKey(r.userId, r.conversationId), r])),
    startModes: new Map([['c', mode]]),
    tracker: createMembershipTracker([tracked], limit),
  });
}

describe('sessions batch fold', () => {
  it('counts each message once for every other member, and undoes it when recalled in the same batch', () => {
    const result = fold([sent(11, 'a'), sent(12, 'b'), conv(13, 'MessageRecalled', { seq: 12 })], ['a', 'b', 'c'], 'write', 10);
    // m11 (by a) counts for b and c; m12 (by b) counted for a and c, then its recall undid both.
    expect(result.increments.sort((x, y) => x.u.localeCompare(y.u))).toEqual([
      { u: 'b', c: 'c', n: 1 },
      { u: 'c', c: 'c', n: 1 },
    ]);
    expect(result.newMessages.map((m) => [m.seq, m.recalled])).toEqual([
      [11, false],
      [12, true],
    ]);
    expect(result.conversations[0]!.lastMessage).toMatchObject({ seq: 12, recalled: true });
  });

  it('recounts a row whose mark moved (clamped to the last seq, never lowered) instead of incrementing it', () => {
    const result = fold([sent(11, 'a'), user('b', 'ConversationRead', { seq: 99 }), user('c', 'ConversationRead', { seq: 2 })], ['a', 'b', 'c'], 'write', 10, [
      row('b', 5),
      row('c', 8),
    ]);
    expect(result.rows.find((r) => r.userId === 'b')!.lastReadSeq).toBe(11);
    expect(result.rows.find((r) => r.userId === 'c')!.lastReadSeq).toBe(8);
    expect(result.recountRows).toEqual([{ u: 'b', c: 'c' }]);
    expect(result.increments).toEqual([{ u: 'c', c: 'c', n: 1 }]);
  });

  it('leaves a recall of a stored message to the per-row decrement only while counters are stored', () => {
    expect(fold([conv(11, 'MessageRecalled', { seq: 4 })], ['a', 'b'], 'write', 10).decrementRecalls).toEqual([{ c: 'c', s: 4 }]);
    const lazy = fold([conv(11, 'MessageRecalled', { seq: 4 })], ['a', 'b', 'c'], 'read', 2);
    expect(lazy.decrementRecalls).toEqual([]);
    expect(lazy.storedRecalls).toEqual([{ c: 'c', s: 4 }]);
  });

  it('drops stored counters when a group grows into read mode, and recounts them when it shrinks back', () => {
    const grown = fold([conv(11, 'MembersAdded', { userIds: ['d'] }), sent(12, 'a')], ['a', 'b', 'c'], 'write', 3);
    expect(grown.lazyConversations).toEqual(['c']);
    expect(grown.increments).toEqual([]);
    const shrunk = fold([conv(11, 'MemberLeft', { userId: 'd' }), sent(12, 'a')], ['a', 'b', 'c', 'd'], 'read', 3);
    expect(shrunk.recountConversations).toEqual(['c']);
    expect(shrunk.endModes.get('c')).toBe('write');
  });

  it('freezes what a departing member last saw and reactivates them on rejoin', () => {
    const result = fold([sent(11, 'a'), conv(12, 'MemberRemoved', { userId: 'b' }), sent(13, 'a')], ['a', 'b'], 'write', 10, [row('b')]);
    const b = result.rows.find((r) => r.userId === 'b')!;
    expect(b).toMatchObject({ active: false, frozen: { name: 'g', lastSeq: 12, lastMessage: { seq: 11 } } });
    expect(result.increments).toEqual([{ u: 'b', c: 'c', n: 1 }]); // seq 11 only: 13 came after the removal
    const back = fold([conv(11, 'MembersAdded', { userIds: ['b'] })], ['a'], 'write', 10, [{ ...row('b'), active: false, frozen: b.frozen }]);
    expect(back.rows.find((r) => r.userId === 'b')).toMatchObject({ active: true, frozen: null });
  });
});
