// The per-user decider: monotonic, clamped read marks and per-conversation settings.
import { describe, expect, it } from 'vitest';
import type { UserEvent } from '../../src/domain/events.js';
import { DEFAULT_CONVERSATION_SETTINGS, evolveUser, initialUserState, readMark, settingsOf, type UserCommand } from '../../src/domain/user.js';
import { GROUP_ID, OTHER_GROUP_ID, T0, foldUser, givenUser, iso } from './fixtures.js';

const markRead = (seq: number, options: Partial<Extract<UserCommand, { type: 'MarkRead' }>> = {}): UserCommand => ({
  type: 'MarkRead',
  userId: 'alice',
  conversationId: GROUP_ID,
  seq,
  deviceId: 'phone',
  now: T0,
  conversationLastSeq: 10,
  isMember: true,
  ...options,
});
const read = (seq: number, conversationId = GROUP_ID, deviceId = 'phone'): UserEvent => ({
  type: 'ConversationRead',
  data: { conversationId, seq, deviceId, readAt: iso(T0) },
});

const changeSettings = (settings: { muted?: boolean; pinned?: boolean; hidden?: boolean }, options: { isMember?: boolean } = {}): UserCommand => ({
  type: 'ChangeSettings',
  userId: 'alice',
  conversationId: GROUP_ID,
  now: T0,
  isMember: options.isMember ?? true,
  ...settings,
});
const settingsChanged = (changes: { muted?: boolean; pinned?: boolean; hidden?: boolean }): UserEvent => ({
  type: 'ConversationSettingsChanged',
  data: { conversationId: GROUP_ID, ...changes, changedAt: iso(T0) },
});

describe('MarkRead', () => {
  it('records the first mark of a conversation with its device', () => {
    givenUser([]).when(markRead(4)).then([read(4)]);
  });

  it('changes nothing for a mark at or below the current one', () => {
    givenUser([read(6)]).when(markRead(6)).then([]);
    givenUser([read(6)]).when(markRead(2, { deviceId: 'laptop' })).then([]);
    givenUser([]).when(markRead(0)).then([]);
  });

  it('clamps a mark past the conversation’s last seq, and ignores it when that is no progress', () => {
    givenUser([read(6)]).when(markRead(99)).then([read(10)]);
    givenUser([read(10)]).when(markRead(99)).then([]);
  });

  it('keeps marks per conversation', () => {
    givenUser([read(6, OTHER_GROUP_ID)]).when(markRead(3)).then([read(3)]);
  });

  it('refuses non-members, whatever the mark', () => {
    givenUser([read(6)]).when(markRead(8, { isMember: false })).then('conversation_not_found');
  });

  it('refuses seqs that are not non-negative integers, and malformed ids', () => {
    for (const seq of [-1, 1.5, NaN, Infinity, '3' as never]) givenUser([]).when(markRead(seq)).then('invalid_seq');
    givenUser([]).when(markRead(1, { conversationLastSeq: -1 })).then('invalid_seq');
    givenUser([]).when(markRead(1, { userId: 'al ice' })).then('invalid_user_id');
    givenUser([]).when(markRead(1, { conversationId: 'general' })).then('invalid_conversation_id');
    givenUser([]).when(markRead(1, { deviceId: '' })).then('invalid_device_id');
    givenUser([]).when(markRead(1, { deviceId: 'my phone' })).then('invalid_device_id');
  });
});

describe('ChangeSettings', () => {
  it('records only the settings that change', () => {
    givenUser([]).when(changeSettings({ muted: true, pinned: false })).then([settingsChanged({ muted: true })]);
    givenUser([settingsChanged({ muted: true })]).when(changeSettings({ muted: true, hidden: true })).then([settingsChanged({ hidden: true })]);
  });

  it('changes nothing when nothing differs or nothing is given', () => {
    givenUser([settingsChanged({ pinned: true })]).when(changeSettings({ pinned: true, muted: false })).then([]);
    givenUser([]).when(changeSettings({})).then([]);
    givenUser([]).when(changeSettings({ muted: undefined })).then([]);
  });

  it('refuses non-members and non-boolean settings', () => {
    givenUser([]).when(changeSettings({ muted: true }, { isMember: false })).then('conversation_not_found');
    givenUser([]).when(changeSettings({ hidden: 'yes' as never })).then('invalid_settings');
  });
});

describe('evolveUser', () => {
  it('keeps the highest mark even if events arrive out of order', () => {
    const state = foldUser([read(5), read(3), read(7, OTHER_GROUP_ID)]);
    expect(readMark(state, GROUP_ID)).toBe(5);
    expect(readMark(state, OTHER_GROUP_ID)).toBe(7);
    expect(readMark(state, 'unknown')).toBe(0);
  });

  it('merges settings changes over the defaults', () => {
    const state = foldUser([settingsChanged({ muted: true }), settingsChanged({ pinned: true }), settingsChanged({ muted: false })]);
    expect(settingsOf(state, GROUP_ID)).toEqual({ muted: false, pinned: true, hidden: false });
    expect(settingsOf(state, OTHER_GROUP_ID)).toEqual(DEFAULT_CONVERSATION_SETTINGS);
  });

  it('never changes the state it evolves from', () => {
    const before = foldUser([read(2)]);
    evolveUser(before, read(9));
    evolveUser(before, settingsChanged({ hidden: true }));
    expect(readMark(before, GROUP_ID)).toBe(2);
    expect(settingsOf(before, GROUP_ID)).toEqual(DEFAULT_CONVERSATION_SETTINGS);
    expect(initialUserState.marks.size + initialUserState.settings.size).toBe(0);
  });
});

describe('decideUser', () => {
  it('refuses unknown commands', () => {
    givenUser([]).when({ type: 'Wave', userId: 'alice' } as never).then('invalid_command');
  });
});
