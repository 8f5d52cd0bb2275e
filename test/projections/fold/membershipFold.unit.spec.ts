import { describe, expect, it } from 'vitest';
import type { ConversationFact } from '../../../src/projections/fold/eventFacts.js';
import {
  createMembershipTracker,
  fanoutModeFor,
  membershipEffectOf,
  membershipNeedsOf,
  needsAllMembers,
} from '../../../src/projections/fold/membershipFold.js';
import { ProjectionStateError } from '../../../src/projections/errors.js';

const fact = (seq: number, type: ConversationFact['type'], data: Record<string, unknown>, conversationId = 'c'): ConversationFact => ({
  conversationId,
  seq,
  position: BigInt(seq),
  type,
  data,
  actorId: 'a',
  at: '2025-01-01T00:00:00.000Z',
});

describe('membership fold', () => {
  it('reads joins and departures from each event type', () => {
    expect(membershipEffectOf(fact(1, 'GroupCreated', { ownerId: 'o', memberIds: ['o', 'a'] }))).toEqual({ joins: ['o', 'a'], departs: [] });
    expect(membershipEffectOf(fact(1, 'DirectConversationOpened', { memberIds: ['a', 'b'] }))).toEqual({ joins: ['a', 'b'], departs: [] });
    expect(membershipEffectOf(fact(2, 'MemberLeft', { userId: 'a' }))).toEqual({ joins: [], departs: ['a'] });
    expect(membershipEffectOf(fact(2, 'MessageSent', { senderId: 'a' }))).toEqual({ joins: [], departs: [] });
  });

  it('opens and closes periods (inclusive of the departure seq) and ignores re-adding a member', () => {
    const tracker = createMembershipTracker([], 10);
    tracker.apply(fact(1, 'GroupCreated', { ownerId: 'o', memberIds: ['a'] }));
    expect(tracker.apply(fact(2, 'MembersAdded', { userIds: ['a', 'b'] })).joined).toEqual(['b']);
    expect(tracker.apply(fact(3, 'MemberRemoved', { userId: 'a' })).departed).toEqual(['a']);
    expect(tracker.apply(fact(4, 'MemberLeft', { userId: 'a' })).departed).toEqual([]);
    tracker.apply(fact(5, 'MembersAdded', { userIds: ['a'] }));
    expect(tracker.periodRows()).toEqual([
      { conversationId: 'c', userId: 'o', fromSeq: 1, toSeq: null },
      { conversationId: 'c', userId: 'a', fromSeq: 1, toSeq: 3 },
      { conversationId: 'c', userId: 'b', fromSeq: 2, toSeq: null },
      { conversationId: 'c', userId: 'a', fromSeq: 5, toSeq: null },
    ]);
    expect(tracker.get('c').memberCount).toBe(3);
    expect(tracker.members('c').sort()).toEqual(['a', 'b', 'o']);
  });

  it('records the initial mode and every crossing of the limit at the seq that caused it', () => {
    const tracker = createMembershipTracker([], 3);
    tracker.apply(fact(1, 'GroupCreated', { ownerId: 'o', memberIds: ['a', 'b'] }));
    tracker.apply(fact(2, 'MessageSent', { senderId: 'o' }));
    expect(tracker.apply(fact(3, 'MembersAdded', { userIds: ['c'] }))).toMatchObject({ mode: 'read', modeChanged: true });
    expect(tracker.apply(fact(4, 'MessageSent', { senderId: 'o' }))).toMatchObject({ mode: 'read', modeChanged: false });
    expect(tracker.apply(fact(5, 'MemberLeft', { userId: 'c' }))).toMatchObject({ mode: 'write', modeChanged: true });
    expect(tracker.modeRows()).toEqual([
      { conversationId: 'c', fromSeq: 1, mode: 'write' },
      { conversationId: 'c', fromSeq: 3, mode: 'read' },
      { conversationId: 'c', fromSeq: 5, mode: 'write' },
    ]);
  });

  it('refuses to list members it was not given in full', () => {
    const tracker = createMembershipTracker([{ conversationId: 'big', memberCount: 900, mode: 'read', open: new Map(), complete: false }], 500);
    expect(() => tracker.members('big')).toThrow(ProjectionStateError);
  });

  it('asks for every member only when the batch may fan out in write mode', () => {
    expect(fanoutModeFor(500, 500)).toBe('write');
    expect(fanoutModeFor(501, 500)).toBe('read');
    expect(needsAllMembers({ memberCount: 10, mode: 'write' }, 0, 500)).toBe(true);
    expect(needsAllMembers({ memberCount: 900, mode: 'read' }, 1, 500)).toBe(false);
    expect(needsAllMembers({ memberCount: 501, mode: 'read' }, 1, 500)).toBe(true);
    const needs = membershipNeedsOf([fact(3, 'MemberLeft', { userId: 'x' }), fact(4, 'MembersAdded', { userIds: ['y', 'z'] })]);
    expect(needs.departures.get('c')).toBe(1);
    expect([...needs.users.get('c')!]).toEqual(['x', 'y', 'z']);
  });
});
