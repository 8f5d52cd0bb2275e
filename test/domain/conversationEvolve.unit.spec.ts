// Folding conversation events into state: seq bookkeeping, membership order, the remembered window of
// recent messages, and that a state is never changed by evolving it (the application caches states).
import { describe, expect, it } from 'vitest';
import type { ConversationEvent } from '../../src/domain/events.js';
import { domainLimits } from '../../src/domain/limits.js';
import { evolveConversation, initialConversationState, isMember, memberRole, ownerOf, type ConversationState } from '../../src/domain/conversation.js';
import { GROUP_ID, HOUR, T0, ev, foldConversation, messageId, teamWithAdmin, text } from './fixtures.js';

const open = (state: ConversationState) => {
  if (state.status !== 'open') throw new Error('expected an open conversation');
  return state;
};
const membersOf = (state: ConversationState) => [...open(state).members];

describe('evolveConversation', () => {
  it('starts empty and opens with the first event', () => {
    expect(initialConversationState).toEqual({ status: 'empty' });
    const state = open(foldConversation([ev.directOpened('alice', 'bob')]));
    expect(state).toMatchObject({ kind: 'direct', name: null, lastSeq: 1, dissolved: false });
    expect(membersOf(state)).toEqual([
      ['alice', 'member'],
      ['bob', 'member'],
    ]);
  });

  it('gives every event, system events included, the seq it is folded at', () => {
    const events: ConversationEvent[] = [
      ...teamWithAdmin(),
      ev.renamed('Core', 'alice'),
      ev.membersAdded('alice', ['erin']),
      ev.sent('erin', messageId(1)),
      ev.edited(messageId(1), 5, text('x'), 'erin'),
      ev.recalled(messageId(1), 5, 'erin'),
      ev.memberRemoved('dave', 'alice'),
      ev.memberLeft('erin'),
      ev.dissolved('alice'),
    ];
    expect(open(foldConversation(events)).lastSeq).toBe(events.length);
    expect(open(evolveConversation(foldConversation(events), ev.renamed('X', 'alice'), 42)).lastSeq).toBe(42);
  });

  it('keeps members in joining order: a role change keeps the place, leaving and re-joining goes last', () => {
    const state = foldConversation([
      ev.groupCreated('alice', ['bob', 'carol']),
      ev.roleChanged('bob', 'admin', 'alice'),
      ev.memberLeft('carol'),
      ev.membersAdded('alice', ['dave', 'carol', 'bob']),
    ]);
    expect(membersOf(state)).toEqual([
      ['alice', 'owner'],
      ['bob', 'admin'],
      ['dave', 'member'],
      ['carol', 'member'],
    ]);
    expect(ownerOf(state)).toBe('alice');
    expect(memberRole(state, 'bob')).toBe('admin');
    expect(isMember(state, 'erin')).toBe(false);
    expect(memberRole(initialConversationState, 'alice')).toBeUndefined();
  });

  it('records renames and dissolution', () => {
    const state = open(foldConversation([ev.groupCreated('alice', [], { name: 'A' }), ev.renamed('B', 'alice'), ev.dissolved('alice')]));
    expect(state).toMatchObject({ conversationId: GROUP_ID, name: 'B', dissolved: true });
  });

  it('remembers sent messages with their seq, sender, time, kind and recall', () => {
    const state = open(
      foldConversation([...teamWithAdmin(), ev.sent('carol', messageId(1), { now: T0 + 5 }), ev.sent('dave', messageId(2), { kind: 'file', body: {} })]),
    );
    const recalled = open(evolveConversation(state, ev.recalled(messageId(1), 3, 'carol'), 5));
    expect([...recalled.recentMessages]).toEqual([
      [messageId(1), { seq: 3, senderId: 'carol', sentAtMs: T0 + 5, kind: 'text', recalled: true }],
      [messageId(2), { seq: 4, senderId: 'dave', sentAtMs: T0, kind: 'file', recalled: false }],
    ]);
    expect(recalled.recentMessages.size).toBe(2);
    expect(recalled.recentMessages.has(messageId(2))).toBe(true);
    expect([...recalled.recentMessages.keys()]).toEqual([messageId(1), messageId(2)]);
    expect(evolveConversation(recalled, ev.recalled(messageId(9), 4, 'carol'), 6)).toMatchObject({ lastSeq: 6 });
  });

  it('never changes the state it evolves from, so cached and forked states stay valid', () => {
    const base = foldConversation([...teamWithAdmin(), ev.sent('carol', messageId(1))]);
    const snapshot = { members: membersOf(base), messages: [...open(base).recentMessages] };
    const a = foldConversation([ev.sent('dave', messageId(2)), ev.recalled(messageId(1), 3, 'carol'), ev.memberLeft('dave')], undefined, base);
    // A second branch from the same state (as when two folds race from one cached snapshot).
    const b = foldConversation([ev.sent('bob', messageId(3)), ev.membersAdded('alice', ['erin'])], undefined, base);
    expect({ members: membersOf(base), messages: [...open(base).recentMessages] }).toEqual(snapshot);
    expect([...open(a).recentMessages.keys()]).toEqual([messageId(1), messageId(2)]);
    expect(open(a).recentMessages.get(messageId(1))?.recalled).toBe(true);
    expect([...open(b).recentMessages.keys()]).toEqual([messageId(1), messageId(3)]);
    expect(open(b).recentMessages.get(messageId(1))?.recalled).toBe(false);
    expect(open(b).recentMessages.has(messageId(2))).toBe(false);
    expect(isMember(a, 'dave')).toBe(false);
    expect(isMember(b, 'dave') && isMember(b, 'erin')).toBe(true);
  });

  it('forgets messages beyond maxRecentMessages, and ones older than the longer window before the newest', () => {
    const limits = domainLimits({ maxRecentMessages: 3, editWindowMs: HOUR, recallWindowMs: 2 * HOUR });
    const sends = [0, 1, 2, 3].map((n) => ev.sent('carol', messageId(n), { now: T0 + n }));
    const byCount = open(foldConversation([...teamWithAdmin(), ...sends], limits));
    expect([...byCount.recentMessages.keys()]).toEqual([messageId(1), messageId(2), messageId(3)]);
    expect(byCount.recentMessages.prunedAny).toBe(true);

    const late = ev.sent('carol', messageId(9), { now: T0 + 2 * HOUR + 2 });
    const byTime = open(evolveConversation(byCount, late, byCount.lastSeq + 1, limits));
    expect([...byTime.recentMessages.keys()]).toEqual([messageId(2), messageId(3), messageId(9)]);
  });

  it('stays exact through many messages (compaction) and through a fork of an old state', () => {
    const limits = domainLimits({ maxRecentMessages: 50 });
    let state = foldConversation(teamWithAdmin(), limits);
    const history: ConversationState[] = [];
    for (let n = 1; n <= 1000; n++) {
      state = evolveConversation(state, ev.sent('carol', messageId(n)), open(state).lastSeq + 1, limits);
      if (n % 7 === 0) state = evolveConversation(state, ev.recalled(messageId(n), open(state).lastSeq, 'carol'), open(state).lastSeq + 1, limits);
      history.push(state);
    }
    const expectedKeys = (upTo: number) => Array.from({ length: 50 }, (_, i) => messageId(upTo - 49 + i));
    expect([...open(state).recentMessages.keys()]).toEqual(expectedKeys(1000));
    expect(open(state).recentMessages.get(messageId(994))?.recalled).toBe(true);
    expect(open(state).recentMessages.get(messageId(995))?.recalled).toBe(false);
    // An old state still sees exactly its own window, and evolving it does not disturb the newest.
    const old = history[499]!;
    expect([...open(old).recentMessages.keys()]).toEqual(expectedKeys(500));
    const fork = evolveConversation(old, ev.sent('dave', messageId(5000)), open(old).lastSeq + 1, limits);
    expect([...open(fork).recentMessages.keys()]).toEqual([...expectedKeys(500).slice(1), messageId(5000)]);
    expect([...open(state).recentMessages.keys()]).toEqual(expectedKeys(1000));
  });

  it('ignores anything but an opening event on an empty stream', () => {
    expect(evolveConversation(initialConversationState, ev.sent('carol', messageId(1)), 1)).toBe(initialConversationState);
  });
});
