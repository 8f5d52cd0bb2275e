// The error catalogue: every code in it is reachable through a decider (so none is dead or
// undocumented), refusals carry the catalogue's message, and the helpers build the documented shapes.
import { describe, expect, it } from 'vitest';
import { DOMAIN_ERRORS, DOMAIN_ERROR_CODES, fail, isDomainErrorCode, ok, type DomainErrorCode, type Result } from '../../src/domain/errors.js';
import { DEFAULT_LIMITS, domainLimits, messageRetentionMs } from '../../src/domain/limits.js';
import { decideConversation } from '../../src/domain/conversation.js';
import { decideUser, type UserCommand } from '../../src/domain/user.js';
import { GROUP_ID, T0, cmd, ev, foldConversation, foldUser, messageId, teamWithAdmin, text } from './fixtures.js';

const M1 = messageId(1);
const withMessage = () => [...teamWithAdmin(), ev.sent('carol', M1)];
const decide = (events: Parameters<typeof foldConversation>[0], command: Parameters<typeof decideConversation>[0], limits = DEFAULT_LIMITS) =>
  decideConversation(command, foldConversation(events, limits), limits);
const markRead = (fields: Partial<Extract<UserCommand, { type: 'MarkRead' }>>) =>
  decideUser(
    { type: 'MarkRead', userId: 'alice', conversationId: GROUP_ID, seq: 1, deviceId: 'd', now: T0, conversationLastSeq: 3, isMember: true, ...fields },
    foldUser([]),
  );

/** One way to provoke each code. */
const PROVOKE: Record<DomainErrorCode, () => Result<unknown>> = {
  invalid_command: () => decide([], { type: 'Nope', actorId: 'alice', now: T0 } as never),
  invalid_user_id: () => decide([], cmd.openDirectWith('alice', { peerId: 'b b', conversationId: GROUP_ID })),
  invalid_conversation_id: () => decide([], cmd.openDirectWith('alice', { peerId: 'bob', conversationId: GROUP_ID })),
  invalid_message_id: () => decide(withMessage(), cmd.recall('carol', 'm1')),
  invalid_client_msg_id: () => decide(withMessage(), cmd.send('carol', messageId(2), { clientMsgId: 'a b' })),
  invalid_device_id: () => markRead({ deviceId: ' ' }),
  invalid_peer: () => decide([], cmd.openDirect('alice', 'alice')),
  invalid_message_kind: () => decide(withMessage(), cmd.send('carol', messageId(2), { kind: 'gif' as never })),
  invalid_body: () => decide(withMessage(), cmd.send('carol', messageId(2), { body: {} })),
  body_too_large: () => decide(withMessage(), cmd.send('carol', messageId(2), { body: text('x'.repeat(DEFAULT_LIMITS.maxBodyBytes)) })),
  invalid_group_name: () => decide(teamWithAdmin(), cmd.rename('alice', '')),
  invalid_role: () => decide(teamWithAdmin(), cmd.changeRole('alice', 'bob', 'root' as never)),
  invalid_seq: () => markRead({ seq: -1 }),
  invalid_settings: () =>
    decideUser({ type: 'ChangeSettings', userId: 'alice', conversationId: GROUP_ID, muted: 1 as never, now: T0, isMember: true }, foldUser([])),
  too_many_members: () => decide(teamWithAdmin(), cmd.addMembers('alice', ['erin']), domainLimits({ maxGroupMembers: 4 })),
  conversation_not_found: () => decide(teamWithAdmin(), cmd.send('mallory', messageId(2))),
  conversation_exists: () => decide(teamWithAdmin(), cmd.createGroup('erin', { conversationId: GROUP_ID, name: 'X', memberIds: [] })),
  not_a_group: () => decide([ev.directOpened()], cmd.leave('alice')),
  group_dissolved: () => decide([...teamWithAdmin(), ev.dissolved('alice')], cmd.send('carol', messageId(2))),
  forbidden: () => decide(teamWithAdmin(), cmd.dissolve('bob')),
  already_member: () => decide(teamWithAdmin(), cmd.addMembers('alice', ['carol'])),
  not_a_member: () => decide(teamWithAdmin(), cmd.removeMember('alice', 'erin')),
  cannot_remove_owner: () => decide(teamWithAdmin(), cmd.removeMember('bob', 'alice')),
  owner_must_transfer: () => decide(teamWithAdmin(), cmd.changeRole('alice', 'alice', 'member')),
  message_not_found: () => decide(withMessage(), cmd.edit('carol', messageId(2), text())),
  not_message_sender: () => decide(withMessage(), cmd.edit('dave', M1, text())),
  edit_window_expired: () => decide(withMessage(), cmd.edit('carol', M1, text(), T0 + DEFAULT_LIMITS.editWindowMs + 1)),
  recall_window_expired: () => decide(withMessage(), cmd.recall('carol', M1, T0 + DEFAULT_LIMITS.recallWindowMs + 1)),
  message_recalled: () => decide([...withMessage(), ev.recalled(M1, 3, 'carol')], cmd.recall('carol', M1)),
  no_change: () => decide(teamWithAdmin(), cmd.rename('alice', 'Team')),
};

describe('the error catalogue', () => {
  it.each(DOMAIN_ERROR_CODES)('%s is reachable, with the catalogue’s message', (code) => {
    const result = PROVOKE[code]();
    expect(result.ok ? 'accepted' : result.error.code).toBe(code);
    expect(!result.ok && result.error.message).toBe(DOMAIN_ERRORS[code]);
  });

  it('lists exactly the provoked codes, each with a message', () => {
    expect(Object.keys(PROVOKE).sort()).toEqual([...DOMAIN_ERROR_CODES].sort());
    for (const code of DOMAIN_ERROR_CODES) expect(DOMAIN_ERRORS[code].length).toBeGreaterThan(10);
  });

  it('builds results and recognises codes', () => {
    expect(ok([1])).toEqual({ ok: true, value: [1] });
    expect(fail('forbidden')).toEqual({ ok: false, error: { code: 'forbidden', message: DOMAIN_ERRORS.forbidden } });
    expect(fail('invalid_seq', { field: 'seq' }, 'custom')).toEqual({ ok: false, error: { code: 'invalid_seq', message: 'custom', details: { field: 'seq' } } });
    expect(isDomainErrorCode('no_change')).toBe(true);
    expect(isDomainErrorCode('toString')).toBe(false);
  });
});

describe('limits', () => {
  it('default to the documented values and accept overrides', () => {
    expect(DEFAULT_LIMITS).toEqual({
      editWindowMs: 86_400_000,
      recallWindowMs: 86_400_000,
      maxGroupMembers: 100_000,
      maxBodyBytes: 16_384,
      maxGroupNameLength: 128,
      maxMembersPerCommand: 10_000,
      maxRecentMessages: 10_000,
    });
    expect(domainLimits({ editWindowMs: 5 })).toEqual({ ...DEFAULT_LIMITS, editWindowMs: 5 });
    expect(messageRetentionMs(domainLimits({ editWindowMs: 5, recallWindowMs: 7 }))).toBe(7);
  });
});
