// Test vocabulary for the deciders: fixed users, ids and times, event and command builders with
// sensible defaults, and a given/when/then helper. Specs read as the rules they check.
import { expect } from 'vitest';
import type { ConversationEvent, MemberRole, MessageBody, MessageKind, UserEvent } from '../../src/domain/events.js';
import type { DomainErrorCode, Result } from '../../src/domain/errors.js';
import { DEFAULT_LIMITS, type DomainLimits } from '../../src/domain/limits.js';
import { directConversationId } from '../../src/domain/ids.js';
import {
  decideConversation,
  evolveConversation,
  initialConversationState,
  type ConversationCommand,
  type ConversationState,
} from '../../src/domain/conversation.js';
import { decideUser, evolveUser, initialUserState, type UserCommand, type UserState } from '../../src/domain/user.js';

export const T0 = Date.parse('2024-05-01T10:00:00.000Z');
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const iso = (ms: number): string => new Date(ms).toISOString();

export const GROUP_ID = '018f3a2b-7c4d-7e5f-8a6b-9c0d1e2f3a4b';
export const OTHER_GROUP_ID = '018f3a2b-7c4d-7e5f-8a6b-9c0d1e2f3a4c';
export const DIRECT_ID = directConversationId('alice', 'bob');

/** The n-th message id (a well-formed lowercase UUID). */
export const messageId = (n: number): string => `018f3a2b-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

export const text = (t = 'hi'): MessageBody => ({ text: t });

// ---- conversation events ----

export const ev = {
  directOpened: (a = 'alice', b = 'bob', now = T0): ConversationEvent => ({
    type: 'DirectConversationOpened',
    data: { conversationId: directConversationId(a, b), memberIds: a < b ? [a, b] : [b, a], openedBy: a, openedAt: iso(now) },
  }),
  groupCreated: (ownerId: string, otherIds: string[], options: { name?: string; conversationId?: string; now?: number } = {}): ConversationEvent => ({
    type: 'GroupCreated',
    data: {
      conversationId: options.conversationId ?? GROUP_ID,
      name: options.name ?? 'Team',
      ownerId,
      memberIds: [ownerId, ...otherIds],
      createdAt: iso(options.now ?? T0),
    },
  }),
  renamed: (name: string, by: string, now = T0): ConversationEvent => ({ type: 'GroupRenamed', data: { name, renamedBy: by, renamedAt: iso(now) } }),
  membersAdded: (by: string, userIds: string[], now = T0): ConversationEvent => ({ type: 'MembersAdded', data: { userIds, addedBy: by, addedAt: iso(now) } }),
  memberRemoved: (userId: string, by: string, now = T0): ConversationEvent => ({
    type: 'MemberRemoved',
    data: { userId, removedBy: by, removedAt: iso(now) },
  }),
  memberLeft: (userId: string, now = T0): ConversationEvent => ({ type: 'MemberLeft', data: { userId, leftAt: iso(now) } }),
  roleChanged: (userId: string, role: MemberRole, by: string, now = T0): ConversationEvent => ({
    type: 'MemberRoleChanged',
    data: { userId, role, changedBy: by, changedAt: iso(now) },
  }),
  dissolved: (by: string, now = T0): ConversationEvent => ({ type: 'GroupDissolved', data: { dissolvedBy: by, dissolvedAt: iso(now) } }),
  sent: (senderId: string, id: string, options: { kind?: MessageKind; body?: MessageBody; now?: number; clientMsgId?: string } = {}): ConversationEvent => ({
    type: 'MessageSent',
    data: {
      messageId: id,
      senderId,
      clientMsgId: options.clientMsgId ?? `c-${id.slice(-4)}`,
      kind: options.kind ?? 'text',
      body: options.body ?? text(),
      sentAt: iso(options.now ?? T0),
    },
  }),
  edited: (id: string, seq: number, body: MessageBody, by: string, now = T0): ConversationEvent => ({
    type: 'MessageEdited',
    data: { messageId: id, seq, body, editedBy: by, editedAt: iso(now) },
  }),
  recalled: (id: string, seq: number, by: string, now = T0): ConversationEvent => ({
    type: 'MessageRecalled',
    data: { messageId: id, seq, recalledBy: by, recalledAt: iso(now) },
  }),
};

/** A group owned by alice with bob as admin and carol and dave as members (seq 1 and 2). */
export const teamWithAdmin = (): ConversationEvent[] => [ev.groupCreated('alice', ['bob', 'carol', 'dave']), ev.roleChanged('bob', 'admin', 'alice')];

// ---- conversation commands (actor and time first, the rest as in the command) ----

type Fields<T extends ConversationCommand['type']> = Omit<Extract<ConversationCommand, { type: T }>, 'type' | 'actorId' | 'now'>;
const command =
  <T extends ConversationCommand['type']>(type: T) =>
  (actorId: string, fields: Fields<T>, now = T0): ConversationCommand =>
    ({ type, actorId, now, ...fields }) as ConversationCommand;

export const cmd = {
  openDirect: (actorId: string, peerId: string, now = T0) =>
    command('OpenDirect')(actorId, { peerId, conversationId: directConversationId(actorId, peerId) }, now),
  openDirectWith: command('OpenDirect'),
  createGroup: command('CreateGroup'),
  rename: (actorId: string, name: string, now = T0) => command('RenameGroup')(actorId, { name }, now),
  addMembers: (actorId: string, userIds: string[], now = T0) => command('AddMembers')(actorId, { userIds }, now),
  removeMember: (actorId: string, userId: string, now = T0) => command('RemoveMember')(actorId, { userId }, now),
  leave: (actorId: string, now = T0) => command('LeaveGroup')(actorId, {}, now),
  changeRole: (actorId: string, userId: string, role: MemberRole, now = T0) => command('ChangeRole')(actorId, { userId, role }, now),
  dissolve: (actorId: string, now = T0) => command('DissolveGroup')(actorId, {}, now),
  send: (actorId: string, id: string, options: { kind?: MessageKind; body?: MessageBody; clientMsgId?: string; now?: number } = {}) =>
    command('SendMessage')(
      actorId,
      { messageId: id, clientMsgId: options.clientMsgId ?? `c-${id.slice(-4)}`, kind: options.kind ?? 'text', body: 'body' in options ? options.body! : text() },
      options.now ?? T0,
    ),
  edit: (actorId: string, id: string, body: MessageBody, now = T0) => command('EditMessage')(actorId, { messageId: id, body }, now),
  recall: (actorId: string, id: string, now = T0) => command('RecallMessage')(actorId, { messageId: id }, now),
};

// ---- folding ----

export function foldConversation(events: readonly ConversationEvent[], limits: DomainLimits = DEFAULT_LIMITS, from = initialConversationState): ConversationState {
  const firstSeq = from.status === 'open' ? from.lastSeq + 1 : 1;
  return events.reduce((state, event, i) => evolveConversation(state, event, firstSeq + i, limits), from);
}

export const foldUser = (events: readonly UserEvent[]): UserState => events.reduce(evolveUser, initialUserState);

// ---- given / when / then ----

type Expected<E> = E[] | DomainErrorCode;

function expectTypes<E extends { type: string }>(result: Result<E[]>, types: string[]): void {
  expect(result.ok ? result.value.map((e) => e.type) : result.error.code).toEqual(types);
}

function expectOutcome<E>(result: Result<E[]>, expected: Expected<E>): void {
  if (typeof expected === 'string') {
    expect(result.ok ? { ok: true, events: result.value } : result.error.code).toBe(expected);
  } else {
    expect(result).toEqual({ ok: true, value: expected });
  }
}

/** given(events).when(command).then(events | error code), for the conversation decider. */
export const given = (events: readonly ConversationEvent[], limits: DomainLimits = DEFAULT_LIMITS) => ({
  when: (c: ConversationCommand) => {
    const result = decideConversation(c, foldConversation(events, limits), limits);
    return {
      result,
      then: (expected: Expected<ConversationEvent>) => expectOutcome(result, expected),
      /** Accepted, producing events of these types (when the data is checked elsewhere). */
      thenEmits: (...types: ConversationEvent['type'][]) => expectTypes(result, types),
    };
  },
});

/** givenUser(events).when(command).then(events | error code), for the user decider. */
export const givenUser = (events: readonly UserEvent[]) => ({
  when: (c: UserCommand) => {
    const result = decideUser(c, foldUser(events));
    return { result, then: (expected: Expected<UserEvent>) => expectOutcome(result, expected) };
  },
});
