// The conversation decider's rules for sending, editing and recalling messages.
import { describe, expect, it } from 'vitest';
import type { ConversationEvent } from '../../src/domain/events.js';
import { DEFAULT_LIMITS, domainLimits } from '../../src/domain/limits.js';
import { HOUR, MINUTE, T0, cmd, ev, given, iso, messageId, teamWithAdmin, text } from './fixtures.js';

const M1 = messageId(1);
const DAY = 24 * HOUR;

describe('SendMessage', () => {
  it('records a member’s text message with its time', () => {
    given(teamWithAdmin()).when(cmd.send('carol', M1, { clientMsgId: 'phone-1', now: T0 + MINUTE })).then([
      { type: 'MessageSent', data: { messageId: M1, senderId: 'carol', clientMsgId: 'phone-1', kind: 'text', body: { text: 'hi' }, sentAt: iso(T0 + MINUTE) } },
    ]);
  });

  it('accepts every kind with any plain JSON object as body, in groups and direct conversations', () => {
    const body = { url: 'https://x/y.png', size: 12, meta: { tags: ['a', null, true, 1.5] } };
    for (const kind of ['image', 'file', 'custom'] as const) given(teamWithAdmin()).when(cmd.send('bob', M1, { kind, body })).thenEmits('MessageSent');
    given([ev.directOpened()]).when(cmd.send('bob', M1)).thenEmits('MessageSent');
  });

  it('refuses outsiders, former members and empty streams alike', () => {
    given(teamWithAdmin()).when(cmd.send('mallory', M1)).then('conversation_not_found');
    given([...teamWithAdmin(), ev.memberRemoved('carol', 'alice')]).when(cmd.send('carol', M1)).then('conversation_not_found');
    given([]).when(cmd.send('alice', M1)).then('conversation_not_found');
  });

  it('refuses malformed message ids and clientMsgIds', () => {
    for (const id of ['', 'm1', M1.toUpperCase(), `${M1}0`]) given(teamWithAdmin()).when(cmd.send('carol', id)).then('invalid_message_id');
    for (const clientMsgId of ['', 'has space', 'x'.repeat(65), 'é', 'tab\t']) {
      given(teamWithAdmin()).when(cmd.send('carol', M1, { clientMsgId })).then('invalid_client_msg_id');
    }
    given(teamWithAdmin()).when(cmd.send('carol', M1, { clientMsgId: '~'.repeat(64) })).thenEmits('MessageSent');
  });

  it('refuses unknown kinds', () => {
    given(teamWithAdmin()).when(cmd.send('carol', M1, { kind: 'video' as never })).then('invalid_message_kind');
  });

  it('refuses bodies that are not plain JSON objects', () => {
    class Custom {
      text = 'x';
    }
    const bodies: unknown[] = [null, 'hi', ['hi'], new Custom(), new Date(T0), { text: 'x', n: NaN }, { text: 'x', f: () => 1 }, { text: 'x', u: undefined }];
    for (const body of bodies) given(teamWithAdmin()).when(cmd.send('carol', M1, { kind: 'custom', body: body as never })).then('invalid_body');
    let deep: Record<string, unknown> = { text: 'x' };
    for (let i = 0; i < 40; i++) deep = { inner: deep };
    given(teamWithAdmin()).when(cmd.send('carol', M1, { kind: 'custom', body: deep })).then('invalid_body');
  });

  it('requires a non-empty string text for a text message', () => {
    for (const body of [{}, { text: '' }, { text: 42 }, { caption: 'x' }]) given(teamWithAdmin()).when(cmd.send('carol', M1, { body })).then('invalid_body');
  });

  it('limits the body’s size as UTF-8 JSON, to the byte', () => {
    const limits = domainLimits({ maxBodyBytes: 100 });
    const overhead = JSON.stringify({ text: '' }).length; // 11 bytes
    given(teamWithAdmin(), limits).when(cmd.send('carol', M1, { body: text('a'.repeat(100 - overhead)) })).thenEmits('MessageSent');
    given(teamWithAdmin(), limits).when(cmd.send('carol', M1, { body: text('a'.repeat(101 - overhead)) })).then('body_too_large');
    // 'é' is 2 bytes and '😀' 4 in UTF-8, though one and two UTF-16 units.
    given(teamWithAdmin(), limits).when(cmd.send('carol', M1, { body: text('é'.repeat(42) + '😀a') })).thenEmits('MessageSent');
    given(teamWithAdmin(), limits).when(cmd.send('carol', M1, { body: text('é'.repeat(42) + '😀aa') })).then('body_too_large');
  });

  it('refuses a body with more values than the size allows before serialising it', () => {
    const many = { text: 'x', list: Array.from({ length: DEFAULT_LIMITS.maxBodyBytes + 1 }, () => 0) };
    given(teamWithAdmin()).when(cmd.send('carol', M1, { kind: 'custom', body: many })).then('body_too_large');
  });

  it('validates before checking membership, so the specific code wins', () => {
    given(teamWithAdmin()).when(cmd.send('mallory', M1, { body: { text: '' } })).then('invalid_body');
  });
});

/** carol's message M1 at seq 3 of the team, sent at T0. */
const withMessage = (): ConversationEvent[] => [...teamWithAdmin(), ev.sent('carol', M1, { now: T0 })];

describe('EditMessage', () => {
  it('lets the sender edit within the window; the event names the message’s seq', () => {
    given(withMessage()).when(cmd.edit('carol', M1, text('fixed'), T0 + DAY)).then([
      { type: 'MessageEdited', data: { messageId: M1, seq: 3, body: { text: 'fixed' }, editedBy: 'carol', editedAt: iso(T0 + DAY) } },
    ]);
  });

  it('refuses after the edit window, to the millisecond', () => {
    given(withMessage()).when(cmd.edit('carol', M1, text('late'), T0 + DAY + 1)).then('edit_window_expired');
    given(withMessage(), domainLimits({ editWindowMs: MINUTE })).when(cmd.edit('carol', M1, text('late'), T0 + MINUTE + 1)).then('edit_window_expired');
  });

  it('lets nobody but the sender edit, not even the owner', () => {
    given(withMessage()).when(cmd.edit('alice', M1, text('hack'))).then('not_message_sender');
    given(withMessage()).when(cmd.edit('dave', M1, text('hack'))).then('not_message_sender');
  });

  it('refuses recalled and unknown messages', () => {
    given([...withMessage(), ev.recalled(M1, 3, 'carol')]).when(cmd.edit('carol', M1, text('again'))).then('message_recalled');
    given(withMessage()).when(cmd.edit('carol', messageId(2), text('x'))).then('message_not_found');
  });

  it('validates the new body like a send, for the message’s kind', () => {
    given(withMessage()).when(cmd.edit('carol', M1, { caption: 'no text' })).then('invalid_body');
    given(withMessage()).when(cmd.edit('carol', M1, ['x'] as never)).then('invalid_body');
    given(withMessage(), domainLimits({ maxBodyBytes: 20 })).when(cmd.edit('carol', M1, text('x'.repeat(20)))).then('body_too_large');
    const image = [...teamWithAdmin(), ev.sent('carol', M1, { kind: 'image', body: { url: 'a' } })];
    given(image).when(cmd.edit('carol', M1, { url: 'b' })).thenEmits('MessageEdited');
    given(withMessage()).when(cmd.edit('carol', 'nope', text('x'))).then('invalid_message_id');
  });

  it('refuses senders who left and dissolved groups', () => {
    given([...withMessage(), ev.memberLeft('carol')]).when(cmd.edit('carol', M1, text('x'))).then('conversation_not_found');
    given([...withMessage(), ev.dissolved('alice')]).when(cmd.edit('carol', M1, text('x'))).then('group_dissolved');
  });
});

describe('RecallMessage', () => {
  it('lets the sender recall within the window', () => {
    given(withMessage()).when(cmd.recall('carol', M1, T0 + HOUR)).then([
      { type: 'MessageRecalled', data: { messageId: M1, seq: 3, recalledBy: 'carol', recalledAt: iso(T0 + HOUR) } },
    ]);
  });

  it('lets a group’s owner and admins recall anyone’s message, within the window too', () => {
    given(withMessage()).when(cmd.recall('alice', M1)).thenEmits('MessageRecalled');
    given(withMessage()).when(cmd.recall('bob', M1)).thenEmits('MessageRecalled');
    given(withMessage()).when(cmd.recall('bob', M1, T0 + DAY + 1)).then('recall_window_expired');
  });

  it('refuses other members, and the peer in a direct conversation', () => {
    given(withMessage()).when(cmd.recall('dave', M1)).then('not_message_sender');
    given([ev.directOpened(), ev.sent('alice', M1)]).when(cmd.recall('bob', M1)).then('not_message_sender');
  });

  it('refuses after the window, twice, or for unknown messages', () => {
    given(withMessage(), domainLimits({ recallWindowMs: 2 * MINUTE })).when(cmd.recall('carol', M1, T0 + 2 * MINUTE + 1)).then('recall_window_expired');
    given([...withMessage(), ev.recalled(M1, 3, 'carol')]).when(cmd.recall('carol', M1)).then('message_recalled');
    given(withMessage()).when(cmd.recall('carol', messageId(9))).then('message_not_found');
    given(withMessage()).when(cmd.recall('carol', 'M1')).then('invalid_message_id');
    given(withMessage()).when(cmd.recall('mallory', M1)).then('conversation_not_found');
  });
});

describe('messages that left the remembered window', () => {
  const limits = domainLimits({ maxRecentMessages: 2 });
  const three = [...teamWithAdmin(), ev.sent('carol', messageId(1)), ev.sent('carol', messageId(2)), ev.sent('carol', messageId(3))];

  it('count as outside the window once more than maxRecentMessages were sent after them', () => {
    given(three, limits).when(cmd.edit('carol', messageId(1), text('x'))).then('edit_window_expired');
    given(three, limits).when(cmd.recall('carol', messageId(1))).then('recall_window_expired');
    given(three, limits).when(cmd.edit('carol', messageId(2), text('x'))).thenEmits('MessageEdited');
  });

  it('count as outside the window once older than the longer window before the newest message', () => {
    const events = [...teamWithAdmin(), ev.sent('carol', messageId(1), { now: T0 }), ev.sent('carol', messageId(2), { now: T0 + DAY + 1 })];
    // A clock running behind would still find it inside the window: forgetting it decides.
    given(events).when(cmd.recall('carol', messageId(1), T0)).then('recall_window_expired');
  });

  it('make an unknown id answer as outside the window too, since it may be one of them', () => {
    given(three, limits).when(cmd.edit('carol', messageId(99), text('x'))).then('edit_window_expired');
  });

  it('leave the ones still remembered editable', () => {
    const { result } = given(three, limits).when(cmd.recall('carol', messageId(3)));
    expect(result.ok && result.value[0]?.data).toMatchObject({ seq: 5 });
  });
});
