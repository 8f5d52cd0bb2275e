// The conversation decider's rules for opening conversations and managing groups, as
// given(events) → when(command) → then(events | error code).
import { describe, expect, it } from 'vitest';
import { directConversationId } from '../../src/domain/ids.js';
import { domainLimits } from '../../src/domain/limits.js';
import { DIRECT_ID, GROUP_ID, HOUR, T0, cmd, ev, given, iso, teamWithAdmin } from './fixtures.js';

describe('OpenDirect', () => {
  it('opens an empty stream with both users as members, sorted, whoever opens it', () => {
    given([]).when(cmd.openDirect('bob', 'alice')).then([
      { type: 'DirectConversationOpened', data: { conversationId: DIRECT_ID, memberIds: ['alice', 'bob'], openedBy: 'bob', openedAt: iso(T0) } },
    ]);
  });

  it('is idempotent: on an open direct conversation either member gets no events', () => {
    given([ev.directOpened('alice', 'bob')]).when(cmd.openDirect('bob', 'alice')).then([]);
    given([ev.directOpened('alice', 'bob')]).when(cmd.openDirect('alice', 'bob')).then([]);
  });

  it('refuses a conversation with yourself', () => {
    given([]).when(cmd.openDirectWith('alice', { peerId: 'alice', conversationId: directConversationId('alice', 'alice') })).then('invalid_peer');
  });

  it('refuses a conversation id that is not the pair’s derived id, or not a canonical UUID', () => {
    given([]).when(cmd.openDirectWith('alice', { peerId: 'bob', conversationId: GROUP_ID })).then('invalid_conversation_id');
    given([]).when(cmd.openDirectWith('alice', { peerId: 'bob', conversationId: DIRECT_ID.toUpperCase() })).then('invalid_conversation_id');
    given([]).when(cmd.openDirectWith('alice', { peerId: 'bob', conversationId: 'direct' })).then('invalid_conversation_id');
  });

  it('refuses malformed user ids, the actor’s included', () => {
    given([]).when(cmd.openDirectWith('alice', { peerId: 'bob smith', conversationId: DIRECT_ID })).then('invalid_user_id');
    given([]).when(cmd.openDirectWith('', { peerId: 'bob', conversationId: DIRECT_ID })).then('invalid_user_id');
  });

  it('reports an existing group under the id as conversation_exists', () => {
    given([ev.groupCreated('alice', ['bob'], { conversationId: DIRECT_ID })]).when(cmd.openDirect('alice', 'bob')).then('conversation_exists');
  });
});

describe('CreateGroup', () => {
  const create = (memberIds: string[], name = 'Team') => cmd.createGroup('alice', { conversationId: GROUP_ID, name, memberIds });

  it('makes the actor the owner, first among deduplicated members, with the trimmed name', () => {
    given([]).when(create(['bob', 'carol', 'bob', 'alice'], '  Team  ')).then([
      { type: 'GroupCreated', data: { conversationId: GROUP_ID, name: 'Team', ownerId: 'alice', memberIds: ['alice', 'bob', 'carol'], createdAt: iso(T0) } },
    ]);
  });

  it('allows a group of the owner alone', () => {
    const { result } = given([]).when(create([]));
    expect(result.ok && result.value[0]?.data).toMatchObject({ memberIds: ['alice'] });
  });

  it('refuses an id already used', () => {
    given([ev.groupCreated('bob', [])]).when(create(['carol'])).then('conversation_exists');
  });

  it('refuses empty, too long, multi-line or non-string names', () => {
    for (const name of ['', '   ', 'x'.repeat(129), 'a\nb', 'tab\there', 42 as unknown as string]) {
      given([]).when(create(['bob'], name)).then('invalid_group_name');
    }
  });

  it('counts the name’s length in code points, after trimming', () => {
    given([]).when(create(['bob'], ` ${'😀'.repeat(128)} `)).thenEmits('GroupCreated');
    given([]).when(create(['bob'], '😀'.repeat(129))).then('invalid_group_name');
  });

  it('refuses malformed member ids and a malformed group id', () => {
    given([]).when(create(['bob', 'c:arol'])).then('invalid_user_id');
    given([]).when(cmd.createGroup('alice', { conversationId: 'not-a-uuid', name: 'T', memberIds: [] })).then('invalid_conversation_id');
  });

  it('refuses more members than a group may hold (owner included, after deduplication) or a command may carry', () => {
    const limits = domainLimits({ maxGroupMembers: 3, maxMembersPerCommand: 4 });
    given([], limits).when(create(['bob', 'carol', 'bob'])).thenEmits('GroupCreated');
    given([], limits).when(create(['bob', 'carol', 'dave'])).then('too_many_members');
    given([], limits).when(create(['bob', 'bob', 'bob', 'bob', 'bob'])).then('too_many_members');
  });
});

describe('RenameGroup', () => {
  it('lets the owner and admins rename', () => {
    given(teamWithAdmin()).when(cmd.rename('alice', 'Core')).then([{ type: 'GroupRenamed', data: { name: 'Core', renamedBy: 'alice', renamedAt: iso(T0) } }]);
    given(teamWithAdmin()).when(cmd.rename('bob', ' Core ')).then([{ type: 'GroupRenamed', data: { name: 'Core', renamedBy: 'bob', renamedAt: iso(T0) } }]);
  });

  it('refuses plain members, outsiders, direct conversations and invalid names', () => {
    given(teamWithAdmin()).when(cmd.rename('carol', 'Core')).then('forbidden');
    given(teamWithAdmin()).when(cmd.rename('mallory', 'Core')).then('conversation_not_found');
    given([]).when(cmd.rename('alice', 'Core')).then('conversation_not_found');
    given([ev.directOpened()]).when(cmd.rename('alice', 'Core')).then('not_a_group');
    given(teamWithAdmin()).when(cmd.rename('alice', ' ')).then('invalid_group_name');
  });

  it('reports renaming to the current name as no_change', () => {
    given(teamWithAdmin()).when(cmd.rename('alice', ' Team')).then('no_change');
  });
});

describe('AddMembers', () => {
  it('adds only the users not yet members, once each, in the order given', () => {
    given(teamWithAdmin()).when(cmd.addMembers('bob', ['erin', 'carol', 'frank', 'erin'])).then([
      { type: 'MembersAdded', data: { userIds: ['erin', 'frank'], addedBy: 'bob', addedAt: iso(T0) } },
    ]);
  });

  it('reports already_member when every user is one', () => {
    given(teamWithAdmin()).when(cmd.addMembers('alice', ['carol', 'bob'])).then('already_member');
  });

  it('refuses plain members, direct conversations and outsiders', () => {
    given(teamWithAdmin()).when(cmd.addMembers('carol', ['erin'])).then('forbidden');
    given([ev.directOpened()]).when(cmd.addMembers('alice', ['erin'])).then('not_a_group');
    given(teamWithAdmin()).when(cmd.addMembers('erin', ['erin'])).then('conversation_not_found');
  });

  it('refuses an empty or malformed list', () => {
    given(teamWithAdmin()).when(cmd.addMembers('alice', [])).then('invalid_user_id');
    given(teamWithAdmin()).when(cmd.addMembers('alice', ['erin', ' '])).then('invalid_user_id');
    given(teamWithAdmin()).when(cmd.addMembers('alice', 'erin' as unknown as string[])).then('invalid_user_id');
  });

  it('keeps the group within its size limit and a command within its own', () => {
    const limits = domainLimits({ maxGroupMembers: 5, maxMembersPerCommand: 2 });
    given(teamWithAdmin(), limits).when(cmd.addMembers('alice', ['erin', 'alice'])).thenEmits('MembersAdded');
    given(teamWithAdmin(), limits).when(cmd.addMembers('alice', ['erin', 'frank'])).then('too_many_members');
    given(teamWithAdmin(), limits).when(cmd.addMembers('alice', ['erin', 'frank', 'gus'])).then('too_many_members');
  });
});

describe('RemoveMember', () => {
  const removed = (userId: string, by: string) => [{ type: 'MemberRemoved', data: { userId, removedBy: by, removedAt: iso(T0) } }] as const;

  it('lets the owner remove admins and members, and admins remove members', () => {
    given(teamWithAdmin()).when(cmd.removeMember('alice', 'bob')).then([...removed('bob', 'alice')]);
    given(teamWithAdmin()).when(cmd.removeMember('bob', 'carol')).then([...removed('carol', 'bob')]);
  });

  it('lets nobody remove the owner, not even the owner', () => {
    given(teamWithAdmin()).when(cmd.removeMember('bob', 'alice')).then('cannot_remove_owner');
    given(teamWithAdmin()).when(cmd.removeMember('alice', 'alice')).then('cannot_remove_owner');
  });

  it('does not let an admin remove an admin (themselves included: they leave instead)', () => {
    const events = [...teamWithAdmin(), ev.roleChanged('carol', 'admin', 'alice')];
    given(events).when(cmd.removeMember('bob', 'carol')).then('forbidden');
    given(events).when(cmd.removeMember('bob', 'bob')).then('forbidden');
  });

  it('refuses plain members, unknown targets and malformed ids', () => {
    given(teamWithAdmin()).when(cmd.removeMember('carol', 'dave')).then('forbidden');
    given(teamWithAdmin()).when(cmd.removeMember('alice', 'erin')).then('not_a_member');
    given(teamWithAdmin()).when(cmd.removeMember('alice', '')).then('invalid_user_id');
    given([ev.directOpened()]).when(cmd.removeMember('alice', 'bob')).then('not_a_group');
  });
});

describe('LeaveGroup', () => {
  const left = (userId: string) => ({ type: 'MemberLeft', data: { userId, leftAt: iso(T0) } }) as const;

  it('lets a member or admin leave', () => {
    given(teamWithAdmin()).when(cmd.leave('carol')).then([left('carol')]);
    given(teamWithAdmin()).when(cmd.leave('bob')).then([left('bob')]);
  });

  it('hands a leaving owner’s role to the longest-standing admin first', () => {
    // carol joined before dave; dave was made admin first, carol later: joining order decides.
    const events = [ev.groupCreated('alice', ['bob', 'carol', 'dave']), ev.roleChanged('dave', 'admin', 'alice'), ev.roleChanged('carol', 'admin', 'alice')];
    given(events).when(cmd.leave('alice')).then([ev.roleChanged('carol', 'owner', 'alice'), left('alice')]);
  });

  it('else to the longest-standing member; a member who re-joined stands last', () => {
    const events = [ev.groupCreated('alice', ['bob', 'carol']), ev.memberLeft('bob'), ev.membersAdded('alice', ['bob'])];
    given(events).when(cmd.leave('alice')).then([ev.roleChanged('carol', 'owner', 'alice'), left('alice')]);
  });

  it('lets the last member leave, after which nobody can act', () => {
    given([ev.groupCreated('alice', [])]).when(cmd.leave('alice')).then([left('alice')]);
    given([ev.groupCreated('alice', []), ev.memberLeft('alice')]).when(cmd.send('alice', '018f3a2b-0000-7000-8000-000000000001')).then('conversation_not_found');
  });

  it('refuses outsiders, former members and direct conversations', () => {
    given(teamWithAdmin()).when(cmd.leave('erin')).then('conversation_not_found');
    given([...teamWithAdmin(), ev.memberLeft('carol')]).when(cmd.leave('carol')).then('conversation_not_found');
    given([ev.directOpened()]).when(cmd.leave('alice')).then('not_a_group');
  });
});

describe('ChangeRole', () => {
  it('lets the owner promote and demote', () => {
    given(teamWithAdmin()).when(cmd.changeRole('alice', 'carol', 'admin')).then([ev.roleChanged('carol', 'admin', 'alice')]);
    given(teamWithAdmin()).when(cmd.changeRole('alice', 'bob', 'member')).then([ev.roleChanged('bob', 'member', 'alice')]);
  });

  it('transfers ownership: the new owner first, then the old owner becomes an admin', () => {
    given(teamWithAdmin()).when(cmd.changeRole('alice', 'dave', 'owner')).then([ev.roleChanged('dave', 'owner', 'alice'), ev.roleChanged('alice', 'admin', 'alice')]);
  });

  it('lets only the owner change roles', () => {
    given(teamWithAdmin()).when(cmd.changeRole('bob', 'carol', 'admin')).then('forbidden');
    given(teamWithAdmin()).when(cmd.changeRole('carol', 'carol', 'admin')).then('forbidden');
  });

  it('does not let the owner step down without naming a successor', () => {
    given(teamWithAdmin()).when(cmd.changeRole('alice', 'alice', 'admin')).then('owner_must_transfer');
    given(teamWithAdmin()).when(cmd.changeRole('alice', 'alice', 'owner')).then('no_change');
  });

  it('refuses unknown targets, unchanged roles, unknown roles and direct conversations', () => {
    given(teamWithAdmin()).when(cmd.changeRole('alice', 'erin', 'admin')).then('not_a_member');
    given(teamWithAdmin()).when(cmd.changeRole('alice', 'bob', 'admin')).then('no_change');
    given(teamWithAdmin()).when(cmd.changeRole('alice', 'bob', 'king' as never)).then('invalid_role');
    given(teamWithAdmin()).when(cmd.changeRole('alice', 'bo b', 'admin')).then('invalid_user_id');
    given([ev.directOpened()]).when(cmd.changeRole('alice', 'bob', 'admin')).then('not_a_group');
  });
});

describe('DissolveGroup', () => {
  it('lets only the owner dissolve', () => {
    given(teamWithAdmin()).when(cmd.dissolve('alice', T0 + HOUR)).then([ev.dissolved('alice', T0 + HOUR)]);
    given(teamWithAdmin()).when(cmd.dissolve('bob')).then('forbidden');
    given([ev.directOpened()]).when(cmd.dissolve('alice')).then('not_a_group');
  });

  it('leaves a group that refuses every command from its members, and still hides it from outsiders', () => {
    const dissolved = [...teamWithAdmin(), ev.dissolved('alice')];
    for (const command of [
      cmd.rename('alice', 'X'),
      cmd.addMembers('alice', ['erin']),
      cmd.removeMember('alice', 'carol'),
      cmd.leave('carol'),
      cmd.changeRole('alice', 'carol', 'admin'),
      cmd.dissolve('alice'),
      cmd.send('carol', '018f3a2b-0000-7000-8000-000000000001'),
    ]) {
      given(dissolved).when(command).then('group_dissolved');
    }
    given(dissolved).when(cmd.rename('erin', 'X')).then('conversation_not_found');
  });
});

describe('every command', () => {
  it('is refused with conversation_not_found on an empty stream (except the two that open one)', () => {
    for (const command of [cmd.rename('alice', 'X'), cmd.addMembers('alice', ['bob']), cmd.leave('alice'), cmd.dissolve('alice')]) {
      given([]).when(command).then('conversation_not_found');
    }
  });

  it('is refused when its type is unknown', () => {
    given(teamWithAdmin()).when({ type: 'Teleport', actorId: 'alice', now: T0 } as never).then('invalid_command');
  });
});
