// The oracle judges the projections, so it is itself checked here against a history worked out by
// hand: unread by the DESIGN.md §4 definition, departed members, re-joins, recalls and read marks.
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/store/eventStore.js';
import { computeOracle, sessionListOf, unreadTotalOf } from './oracle.js';

const G = '018d6b8a-0000-7000-8000-000000000001';
const D = '018d6b8a-0000-7000-8000-000000000002';

function logOf(entries: Array<[stream: string, type: string, data: Record<string, unknown>, actorId?: string]>): RecordedEvent[] {
  const positions = new Map<string, number>();
  return entries.map(([streamId, type, data, actorId], i) => {
    const streamPosition = positions.get(streamId) ?? 0;
    positions.set(streamId, streamPosition + 1);
    return {
      eventId: `e${i}`,
      type,
      streamId,
      streamPosition,
      globalPosition: BigInt(i + 1),
      recordedAt: new Date(0),
      data,
      metadata: { actorId: actorId ?? 'a', schemaVersion: 1 },
    };
  });
}

const t = (minute: number): string => new Date(Date.UTC(2024, 0, 1, 0, minute)).toISOString();
const sent = (messageId: string, senderId: string, minute: number) => ({ messageId, senderId, clientMsgId: messageId, kind: 'text', body: { text: messageId }, sentAt: t(minute) });

// seq: 1 created {a owner, b, c} · 2 a:m1 · 3 c removed · 4 a:m2 · 5 b:m3 · 6 m2 recalled · 7 d and c added · 8 a:m4 · 9 m1 edited
const group = `conversation-${G}`;
const log = logOf([
  [group, 'GroupCreated', { conversationId: G, name: 'g', ownerId: 'a', memberIds: ['a', 'b', 'c'], createdAt: t(1) }],
  [group, 'MessageSent', sent('m1', 'a', 2)],
  ['user-b', 'ConversationRead', { conversationId: G, seq: 2, deviceId: 'd1', readAt: t(3) }, 'b'],
  [group, 'MemberRemoved', { userId: 'c', removedBy: 'a', removedAt: t(4) }],
  [group, 'MessageSent', sent('m2', 'a', 5)],
  [`conversation-${D}`, 'DirectConversationOpened', { conversationId: D, memberIds: ['a', 'b'], openedBy: 'b', openedAt: t(6) }, 'b'],
  [group, 'MessageSent', sent('m3', 'b', 7)],
  [group, 'MessageRecalled', { messageId: 'm2', seq: 4, recalledBy: 'a', recalledAt: t(8) }],
  [group, 'MembersAdded', { userIds: ['d', 'c'], addedBy: 'a', addedAt: t(9) }],
  [group, 'MessageSent', sent('m4', 'a', 10)],
  ['user-b', 'ConversationRead', { conversationId: G, seq: 1, deviceId: 'd2', readAt: t(11) }, 'b'],
  [group, 'MessageEdited', { messageId: 'm1', seq: 2, body: { text: 'm1!' }, editedBy: 'a', editedAt: t(12) }],
  [`conversation-${D}`, 'MessageSent', sent('m5', 'b', 13)],
]);

describe('oracle', () => {
  const oracle = computeOracle(log);
  const session = (userId: string, conversationId = G) => oracle.users.get(userId)!.sessions.get(conversationId)!;

  it('counts unread by the definition: others’ unrecalled messages above the mark, sent while a member', () => {
    expect(session('a').unread).toBe(1); // m3 (m1, m2, m4 are a's own)
    expect(session('b').unread).toBe(1); // m4 (mark 2 hides m1, m2 recalled, m3 own; the stale mark 1 changes nothing)
    expect(session('b').readMark).toBe(2);
    expect(session('c').unread).toBe(2); // m1 in the first period, m4 in the second; m2 and m3 were sent while away
    expect(session('d').unread).toBe(1); // m4 only
    expect(session('a', D).unread).toBe(1); // m5
    expect(unreadTotalOf(oracle.users.get('a'))).toBe(2);
  });

  it('delivers to a user the items of their periods, removal included, re-join restarting', () => {
    const seqs = (userId: string) => oracle.users.get(userId)!.syncItems.flatMap((i) => (i.type === 'item' && i.conversationId === G ? [i.seq] : []));
    expect(seqs('c')).toEqual([1, 2, 3, 7, 8, 9]);
    expect(seqs('d')).toEqual([7, 8, 9]);
    expect(seqs('b')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(oracle.users.get('b')!.syncItems.flatMap((i) => (i.type === 'read' ? [i.seq] : []))).toEqual([2, 1]);
  });

  it('applies edits and recalls to the timeline and keeps one item per seq', () => {
    const items = oracle.conversations.get(G)!.items;
    expect(items.map((i) => i.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(items[1]).toMatchObject({ kind: 'message', body: { text: 'm1!' }, editedAt: t(12), recalled: false });
    expect(items[3]).toMatchObject({ kind: 'message', messageId: 'm2', recalled: true });
    expect(items[8]).toMatchObject({ kind: 'system', event: 'MessageEdited', at: t(12) });
    expect([...oracle.conversations.get(G)!.members]).toEqual([['a', 'owner'], ['b', 'member'], ['d', 'member'], ['c', 'member']]);
  });

  it('freezes a departed member’s row as of the departure and lists rows by activity', () => {
    const frozen = computeOracle(log.slice(0, 7)); // c removed at seq 3, then m2 and m3 sent
    const row = frozen.users.get('c')!.sessions.get(G)!;
    expect(row).toMatchObject({ isMember: false, lastSeq: 3, updatedAt: t(4), title: 'g', unread: 1 });
    expect(row.lastMessage?.messageId).toBe('m1');
    expect(unreadTotalOf(frozen.users.get('c'))).toBe(0);
    // A newcomer's row shows the conversation's heads: the last message, though sent before they joined.
    const joined = computeOracle(log.slice(0, 9)).users.get('d')!.sessions.get(G)!;
    expect(joined).toMatchObject({ isMember: true, lastSeq: 7, unread: 0 });
    expect(joined.lastMessage?.messageId).toBe('m3');
    expect(sessionListOf(oracle.users.get('a')).map((s) => s.conversationId)).toEqual([D, G]);
    expect(session('a', D).title).toBe('b');
  });
});
