import { describe, expect, it } from 'vitest';
import { createUserInvolvement, passesFilters, type ReplayQuery } from '../../src/cli/replay/replayQuery.js';
import type { RecordedEvent } from '../../src/store/eventStore.js';

let position = 0n;
const recorded = (streamId: string, type: string, data: unknown = {}, recordedAt = new Date('2024-05-01T00:00:00Z')): RecordedEvent => {
  position += 1n;
  return { eventId: `e${position}`, type, streamId, streamPosition: 0, globalPosition: position, recordedAt, data, metadata: { actorId: 'a', schemaVersion: 1 } };
};

describe('replay selection', () => {
  it('follows one user through joining, leaving and re-joining conversations', () => {
    const log = [
      recorded('conversation-g', 'GroupCreated', { memberIds: ['alice'] }),
      recorded('conversation-g', 'MessageSent'), // before bob
      recorded('conversation-g', 'MembersAdded', { userIds: ['bob', 'carol'] }),
      recorded('conversation-g', 'MessageSent'),
      recorded('conversation-g', 'MemberRemoved', { userId: 'carol' }), // someone else leaves
      recorded('conversation-g', 'MemberLeft', { userId: 'bob' }),
      recorded('conversation-g', 'MessageSent'), // after bob left
      recorded('conversation-d', 'DirectConversationOpened', { memberIds: ['bob', 'dan'] }),
      recorded('user-bob', 'ConversationRead'),
      recorded('user-bobby', 'ConversationRead'), // a prefix of another user's stream
      recorded('conversation-g', 'MembersAdded', { userIds: ['bob'] }),
      recorded('conversation-g', 'GroupDissolved'),
      recorded('bulk-1', 'Other'),
    ];
    const bob = createUserInvolvement('bob');
    expect(bob.seen).toBe(false);
    const picked = log.map((e) => bob.concerns(e));
    expect(picked).toEqual([false, false, true, true, true, true, false, true, true, false, true, true, false]);
    expect(bob.seen).toBe(true);
    const stranger = createUserInvolvement('zoe');
    log.forEach((e) => stranger.concerns(e));
    expect(stranger.seen).toBe(false);
  });

  it('type, time and position filters are inclusive and combine with AND', () => {
    const at = (iso: string) => recorded('s', 'MessageSent', {}, new Date(iso));
    const [a, b, c] = [at('2024-05-01T00:00:00Z'), at('2024-05-02T00:00:00Z'), at('2024-05-03T00:00:00Z')];
    const query: ReplayQuery = {
      source: { kind: 'all' },
      types: new Set(['MessageSent']),
      fromTime: new Date('2024-05-02T00:00:00Z'),
      toPosition: c!.globalPosition,
    };
    expect([a, b, c].map((e) => passesFilters(query, e!))).toEqual([false, true, true]);
    expect(passesFilters({ ...query, toTime: new Date('2024-05-02T00:00:00Z') }, c!)).toBe(false);
    expect(passesFilters({ ...query, types: new Set(['MessageEdited']) }, b!)).toBe(false);
    expect(passesFilters({ ...query, fromPosition: c!.globalPosition }, b!)).toBe(false);
  });
});
