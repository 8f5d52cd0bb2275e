// The conversation decider (DESIGN.md §3): every rule about who may open, manage, send to, edit and
// recall in a conversation, as pure functions over the conversation-<id> stream. No I/O, no clock, no
// randomness: time and new ids arrive in commands. The application caches the folded state per
// conversation and evolves it after every append, so evolve is O(1) amortised per message event and
// O(√members) per membership change (see recentMessages.ts and memberRoster.ts); states are values:
// evolving one never changes it.
import type {
  ConversationEvent,
  DirectConversationOpened,
  GroupCreated,
  MemberRole,
  MemberRoleChanged,
  MessageBody,
  MessageKind,
} from './events.js';
import { type DomainErrorCode, type Result, fail, failWith, ok } from './errors.js';
import { DEFAULT_LIMITS, messageRetentionMs, type DomainLimits } from './limits.js';
import { directConversationId, isUuid, isValidClientMsgId } from './ids.js';
import { checkBodyForKind, checkMessageBody, isMessageKind } from './messageBody.js';
import { checkConversationId, checkUserId, checkUserIdList, isMemberRole, normalizeGroupName } from './commandValidation.js';
import { RecentMessages, type RecentMessage } from './recentMessages.js';
import { MemberRoster } from './memberRoster.js';

// ================================ Stream ================================
// One stream per conversation, named by conversationStreamId(conversationId) (streams.ts). An item's
// seq is its stream position + 1, so evolve takes it next to the event: every event has one.

// ================================ State =================================

export type ConversationKind = 'direct' | 'group';

export interface OpenConversationState {
  readonly status: 'open';
  readonly kind: ConversationKind;
  readonly conversationId: string;
  /** The group name; null for a direct conversation. */
  readonly name: string | null;
  /**
   * Current members in the order they joined (a role change keeps the place, a re-join goes last):
   * the order decides who inherits ownership. A dissolved group keeps its members, who may still read.
   */
  readonly members: MemberRoster;
  readonly lastSeq: number;
  readonly dissolved: boolean;
  /** Messages still within the edit/recall window, by messageId (see recentMessages.ts). */
  readonly recentMessages: RecentMessages;
}

export type ConversationState = { readonly status: 'empty' } | OpenConversationState;

export const initialConversationState: ConversationState = Object.freeze({ status: 'empty' });

// ================================ Evolve ================================

/** The limits evolve needs: how long and how many recent messages to remember. */
export type RetentionLimits = Pick<DomainLimits, 'editWindowMs' | 'recallWindowMs' | 'maxRecentMessages'>;

/**
 * Folds one event (at `seq` = its stream position + 1) into the state. Pass the same limits the
 * decider uses: the window kept for edits and recalls follows them.
 */
export function evolveConversation(
  state: ConversationState,
  event: ConversationEvent,
  seq: number,
  limits: RetentionLimits = DEFAULT_LIMITS,
): ConversationState {
  if (state.status === 'empty') return openedBy(event, seq) ?? state;
  switch (event.type) {
    case 'DirectConversationOpened':
    case 'GroupCreated':
    case 'MessageEdited':
      return { ...state, lastSeq: seq };
    case 'GroupRenamed':
      return { ...state, name: event.data.name, lastSeq: seq };
    case 'MembersAdded':
      return { ...state, members: state.members.withJoined(event.data.userIds), lastSeq: seq };
    case 'MemberRemoved':
    case 'MemberLeft':
      return { ...state, members: state.members.without(event.data.userId), lastSeq: seq };
    case 'MemberRoleChanged':
      return { ...state, members: state.members.withRole(event.data.userId, event.data.role), lastSeq: seq };
    case 'GroupDissolved':
      return { ...state, dissolved: true, lastSeq: seq };
    case 'MessageSent': {
      const { messageId, senderId, kind, sentAt } = event.data;
      const sent = { messageId, seq, senderId, kind, sentAtMs: Date.parse(sentAt) };
      const retention = { retentionMs: messageRetentionMs(limits), maxMessages: limits.maxRecentMessages };
      return { ...state, recentMessages: state.recentMessages.withSent(sent, retention), lastSeq: seq };
    }
    case 'MessageRecalled':
      return { ...state, recentMessages: state.recentMessages.withRecalled(event.data.messageId), lastSeq: seq };
  }
}

/** The state a stream's first event opens; undefined for any other event (a stream never starts so). */
function openedBy(event: ConversationEvent, seq: number): OpenConversationState | undefined {
  const open = { status: 'open', lastSeq: seq, dissolved: false, recentMessages: RecentMessages.empty() } as const;
  if (event.type === 'DirectConversationOpened') {
    const members = MemberRoster.of(event.data.memberIds.map((id) => [id, 'member'] as const));
    return { ...open, kind: 'direct', conversationId: event.data.conversationId, name: null, members };
  }
  if (event.type === 'GroupCreated') {
    const roles = new Map<string, MemberRole>(event.data.memberIds.map((id) => [id, 'member']));
    const members = MemberRoster.of(roles.set(event.data.ownerId, 'owner'));
    return { ...open, kind: 'group', conversationId: event.data.conversationId, name: event.data.name, members };
  }
  return undefined;
}

// =============================== Commands ===============================

interface CommandBase {
  /** The authenticated user issuing the command. */
  readonly actorId: string;
  /** The time of the command (ms since the epoch), from the application's clock. */
  readonly now: number;
}

export interface OpenDirectCommand extends CommandBase {
  readonly type: 'OpenDirect';
  /** Must be directConversationId(actorId, peerId). */
  readonly conversationId: string;
  readonly peerId: string;
}
export interface CreateGroupCommand extends CommandBase {
  readonly type: 'CreateGroup';
  /** A new UUIDv7 from the application. */
  readonly conversationId: string;
  readonly name: string;
  /** The other members; duplicates and the actor are tolerated. */
  readonly memberIds: readonly string[];
}
export interface RenameGroupCommand extends CommandBase {
  readonly type: 'RenameGroup';
  readonly name: string;
}
export interface AddMembersCommand extends CommandBase {
  readonly type: 'AddMembers';
  readonly userIds: readonly string[];
}
export interface RemoveMemberCommand extends CommandBase {
  readonly type: 'RemoveMember';
  readonly userId: string;
}
export interface LeaveGroupCommand extends CommandBase {
  readonly type: 'LeaveGroup';
}
export interface ChangeRoleCommand extends CommandBase {
  readonly type: 'ChangeRole';
  readonly userId: string;
  /** 'owner' transfers ownership: the previous owner becomes an admin. */
  readonly role: MemberRole;
}
export interface DissolveGroupCommand extends CommandBase {
  readonly type: 'DissolveGroup';
}
export interface SendMessageCommand extends CommandBase {
  readonly type: 'SendMessage';
  /** A new UUIDv7 from the application. */
  readonly messageId: string;
  readonly clientMsgId: string;
  readonly kind: MessageKind;
  readonly body: MessageBody;
}
export interface EditMessageCommand extends CommandBase {
  readonly type: 'EditMessage';
  readonly messageId: string;
  readonly body: MessageBody;
}
export interface RecallMessageCommand extends CommandBase {
  readonly type: 'RecallMessage';
  readonly messageId: string;
}

export type ConversationCommand =
  | OpenDirectCommand
  | CreateGroupCommand
  | RenameGroupCommand
  | AddMembersCommand
  | RemoveMemberCommand
  | LeaveGroupCommand
  | ChangeRoleCommand
  | DissolveGroupCommand
  | SendMessageCommand
  | EditMessageCommand
  | RecallMessageCommand;

// ================================ Decide ================================

type Decision = Result<ConversationEvent[]>;

/**
 * The events a command produces in this state, or why it is refused. Fields are validated first
 * (specific invalid_* codes), then membership (a non-member learns nothing: conversation_not_found),
 * then the group's state and the actor's role.
 */
export function decideConversation(command: ConversationCommand, state: ConversationState, limits: DomainLimits = DEFAULT_LIMITS): Decision {
  const invalidActor = checkUserId(command.actorId, 'actorId');
  if (invalidActor) return failWith(invalidActor);
  switch (command.type) {
    case 'OpenDirect':
      return openDirect(command, state);
    case 'CreateGroup':
      return createGroup(command, state, limits);
    case 'RenameGroup':
      return renameGroup(command, state, limits);
    case 'AddMembers':
      return addMembers(command, state, limits);
    case 'RemoveMember':
      return removeMember(command, state);
    case 'LeaveGroup':
      return leaveGroup(command, state);
    case 'ChangeRole':
      return changeRole(command, state);
    case 'DissolveGroup':
      return dissolveGroup(command, state);
    case 'SendMessage':
      return sendMessage(command, state, limits);
    case 'EditMessage':
      return editMessage(command, state, limits);
    case 'RecallMessage':
      return recallMessage(command, state, limits);
    default:
      return fail('invalid_command', { type: String((command as { type?: unknown }).type) });
  }
}

const isoAt = (now: number): string => new Date(now).toISOString();

const MANAGERS: readonly MemberRole[] = ['owner', 'admin'];
const OWNER_ONLY: readonly MemberRole[] = ['owner'];

interface Membership {
  readonly conversation: OpenConversationState;
  readonly role: MemberRole;
}

/** The actor's place in a conversation that still accepts commands. */
function activeMembership(state: ConversationState, actorId: string): Result<Membership> {
  if (state.status !== 'open') return fail('conversation_not_found');
  const role = state.members.get(actorId);
  if (role === undefined) return fail('conversation_not_found');
  if (state.dissolved) return fail('group_dissolved');
  return ok({ conversation: state, role });
}

/** As activeMembership, for a group, with the actor's role among `allowedRoles` when given. */
function groupMembership(state: ConversationState, actorId: string, allowedRoles?: readonly MemberRole[]): Result<Membership> {
  const membership = activeMembership(state, actorId);
  if (!membership.ok) return membership;
  if (membership.value.conversation.kind !== 'group') return fail('not_a_group');
  if (allowedRoles && !allowedRoles.includes(membership.value.role)) return fail('forbidden', { role: membership.value.role });
  return membership;
}

function openDirect(command: OpenDirectCommand, state: ConversationState): Decision {
  const { actorId, peerId, conversationId } = command;
  const invalid = checkUserId(peerId, 'peerId') ?? checkConversationId(conversationId);
  if (invalid) return failWith(invalid);
  if (peerId === actorId) return fail('invalid_peer');
  if (conversationId !== directConversationId(actorId, peerId)) return fail('invalid_conversation_id', { reason: 'not_the_direct_conversation_id' });
  if (state.status === 'open') {
    // The race loser (or a repeated open) finds the winner's conversation: nothing to do.
    if (state.kind !== 'direct') return fail('conversation_exists');
    return state.members.has(actorId) ? ok([]) : fail('conversation_not_found');
  }
  const memberIds: [string, string] = actorId < peerId ? [actorId, peerId] : [peerId, actorId];
  const opened: DirectConversationOpened = {
    type: 'DirectConversationOpened',
    data: { conversationId, memberIds, openedBy: actorId, openedAt: isoAt(command.now) },
  };
  return ok([opened]);
}

function createGroup(command: CreateGroupCommand, state: ConversationState, limits: DomainLimits): Decision {
  const invalid = checkConversationId(command.conversationId) ?? checkUserIdList(command.memberIds, 'memberIds', limits.maxMembersPerCommand);
  if (invalid) return failWith(invalid);
  const name = normalizeGroupName(command.name, limits.maxGroupNameLength);
  if (!name.ok) return name;
  if (state.status !== 'empty') return fail('conversation_exists');
  const memberIds = [...new Set([command.actorId, ...command.memberIds])];
  if (memberIds.length > limits.maxGroupMembers) return fail('too_many_members', { max: limits.maxGroupMembers, given: memberIds.length });
  const created: GroupCreated = {
    type: 'GroupCreated',
    data: { conversationId: command.conversationId, name: name.value, ownerId: command.actorId, memberIds, createdAt: isoAt(command.now) },
  };
  return ok([created]);
}

function renameGroup(command: RenameGroupCommand, state: ConversationState, limits: DomainLimits): Decision {
  const name = normalizeGroupName(command.name, limits.maxGroupNameLength);
  if (!name.ok) return name;
  const membership = groupMembership(state, command.actorId, MANAGERS);
  if (!membership.ok) return membership;
  if (membership.value.conversation.name === name.value) return fail('no_change');
  return ok([{ type: 'GroupRenamed', data: { name: name.value, renamedBy: command.actorId, renamedAt: isoAt(command.now) } }]);
}

function addMembers(command: AddMembersCommand, state: ConversationState, limits: DomainLimits): Decision {
  const invalid = checkUserIdList(command.userIds, 'userIds', limits.maxMembersPerCommand);
  if (invalid) return failWith(invalid);
  if (command.userIds.length === 0) return fail('invalid_user_id', { field: 'userIds', reason: 'empty' });
  const membership = groupMembership(state, command.actorId, MANAGERS);
  if (!membership.ok) return membership;
  const { members } = membership.value.conversation;
  const newcomers = [...new Set(command.userIds)].filter((userId) => !members.has(userId));
  if (newcomers.length === 0) return fail('already_member');
  const size = members.size + newcomers.length;
  if (size > limits.maxGroupMembers) return fail('too_many_members', { max: limits.maxGroupMembers, given: size });
  return ok([{ type: 'MembersAdded', data: { userIds: newcomers, addedBy: command.actorId, addedAt: isoAt(command.now) } }]);
}

function removeMember(command: RemoveMemberCommand, state: ConversationState): Decision {
  const invalid = checkUserId(command.userId, 'userId');
  if (invalid) return failWith(invalid);
  const membership = groupMembership(state, command.actorId, MANAGERS);
  if (!membership.ok) return membership;
  const targetRole = membership.value.conversation.members.get(command.userId);
  if (targetRole === undefined) return fail('not_a_member');
  if (targetRole === 'owner') return fail('cannot_remove_owner');
  if (membership.value.role === 'admin' && targetRole === 'admin') return fail('forbidden', { reason: 'admin_cannot_remove_admin' });
  return ok([{ type: 'MemberRemoved', data: { userId: command.userId, removedBy: command.actorId, removedAt: isoAt(command.now) } }]);
}

function leaveGroup(command: LeaveGroupCommand, state: ConversationState): Decision {
  const membership = groupMembership(state, command.actorId);
  if (!membership.ok) return membership;
  const at = isoAt(command.now);
  const left: ConversationEvent = { type: 'MemberLeft', data: { userId: command.actorId, leftAt: at } };
  if (membership.value.role !== 'owner') return ok([left]);
  const successor = longestStandingSuccessor(membership.value.conversation.members, command.actorId);
  if (successor === undefined) return ok([left]); // the last member leaves: the group stays, empty
  return ok([roleChanged(successor, 'owner', command.actorId, at), left]);
}

/** The longest-standing admin, else the longest-standing member, other than the leaving owner. */
function longestStandingSuccessor(members: ReadonlyMap<string, MemberRole>, ownerId: string): string | undefined {
  let firstMember: string | undefined;
  for (const [userId, role] of members) {
    if (userId === ownerId) continue;
    if (role === 'admin') return userId;
    firstMember ??= userId;
  }
  return firstMember;
}

const roleChanged = (userId: string, role: MemberRole, changedBy: string, changedAt: string): MemberRoleChanged => ({
  type: 'MemberRoleChanged',
  data: { userId, role, changedBy, changedAt },
});

function changeRole(command: ChangeRoleCommand, state: ConversationState): Decision {
  const { actorId, userId, role } = command;
  const invalid = checkUserId(userId, 'userId');
  if (invalid) return failWith(invalid);
  if (!isMemberRole(role)) return fail('invalid_role');
  const membership = groupMembership(state, actorId, OWNER_ONLY);
  if (!membership.ok) return membership;
  const currentRole = membership.value.conversation.members.get(userId);
  if (currentRole === undefined) return fail('not_a_member');
  if (currentRole === role) return fail('no_change');
  if (userId === actorId) return fail('owner_must_transfer'); // the owner stepping down would leave no owner
  const at = isoAt(command.now);
  if (role === 'owner') return ok([roleChanged(userId, 'owner', actorId, at), roleChanged(actorId, 'admin', actorId, at)]);
  return ok([roleChanged(userId, role, actorId, at)]);
}

function dissolveGroup(command: DissolveGroupCommand, state: ConversationState): Decision {
  const membership = groupMembership(state, command.actorId, OWNER_ONLY);
  if (!membership.ok) return membership;
  return ok([{ type: 'GroupDissolved', data: { dissolvedBy: command.actorId, dissolvedAt: isoAt(command.now) } }]);
}

function sendMessage(command: SendMessageCommand, state: ConversationState, limits: DomainLimits): Decision {
  const { actorId, messageId, clientMsgId, kind, body } = command;
  if (!isUuid(messageId)) return fail('invalid_message_id');
  if (!isValidClientMsgId(clientMsgId)) return fail('invalid_client_msg_id');
  if (!isMessageKind(kind)) return fail('invalid_message_kind');
  const invalidBody = checkMessageBody(body, limits.maxBodyBytes) ?? checkBodyForKind(kind, body);
  if (invalidBody) return failWith(invalidBody);
  const membership = activeMembership(state, actorId);
  if (!membership.ok) return membership;
  return ok([{ type: 'MessageSent', data: { messageId, senderId: actorId, clientMsgId, kind, body, sentAt: isoAt(command.now) } }]);
}

function editMessage(command: EditMessageCommand, state: ConversationState, limits: DomainLimits): Decision {
  const { actorId, messageId, body, now } = command;
  if (!isUuid(messageId)) return fail('invalid_message_id');
  const invalidBody = checkMessageBody(body, limits.maxBodyBytes);
  if (invalidBody) return failWith(invalidBody);
  const membership = activeMembership(state, actorId);
  if (!membership.ok) return membership;
  const target = recentTarget(membership.value.conversation, messageId, 'edit_window_expired');
  if (!target.ok) return target;
  const { seq, senderId, sentAtMs, kind, recalled } = target.value;
  if (senderId !== actorId) return fail('not_message_sender');
  if (recalled) return fail('message_recalled');
  if (now - sentAtMs > limits.editWindowMs) return fail('edit_window_expired', { windowMs: limits.editWindowMs });
  const invalidForKind = checkBodyForKind(kind, body);
  if (invalidForKind) return failWith(invalidForKind);
  return ok([{ type: 'MessageEdited', data: { messageId, seq, body, editedBy: actorId, editedAt: isoAt(now) } }]);
}

function recallMessage(command: RecallMessageCommand, state: ConversationState, limits: DomainLimits): Decision {
  const { actorId, messageId, now } = command;
  if (!isUuid(messageId)) return fail('invalid_message_id');
  const membership = activeMembership(state, actorId);
  if (!membership.ok) return membership;
  const { conversation, role } = membership.value;
  const target = recentTarget(conversation, messageId, 'recall_window_expired');
  if (!target.ok) return target;
  const { seq, senderId, sentAtMs, recalled } = target.value;
  const moderates = conversation.kind === 'group' && MANAGERS.includes(role);
  if (senderId !== actorId && !moderates) return fail('not_message_sender');
  if (recalled) return fail('message_recalled');
  if (now - sentAtMs > limits.recallWindowMs) return fail('recall_window_expired', { windowMs: limits.recallWindowMs });
  return ok([{ type: 'MessageRecalled', data: { messageId, seq, recalledBy: actorId, recalledAt: isoAt(now) } }]);
}

/**
 * A message among the recent ones. An unknown id is message_not_found while the conversation has
 * forgotten nothing; once messages have left the window it may be one of those, which count as
 * outside the window (telling them from never-sent ids would need the log).
 */
function recentTarget(conversation: OpenConversationState, messageId: string, expired: DomainErrorCode): Result<RecentMessage> {
  const target = conversation.recentMessages.get(messageId);
  if (target) return ok(target);
  return conversation.recentMessages.prunedAny ? fail(expired, { reason: 'not_recent' }) : fail('message_not_found');
}

// ================================ Query =================================

/** The user's role, or undefined when the user is not a current member. */
export const memberRole = (state: ConversationState, userId: string): MemberRole | undefined =>
  state.status === 'open' ? state.members.get(userId) : undefined;

export const isMember = (state: ConversationState, userId: string): boolean => memberRole(state, userId) !== undefined;

/** The group's owner (undefined for a direct conversation or a group everyone left). O(members). */
export function ownerOf(state: ConversationState): string | undefined {
  if (state.status !== 'open') return undefined;
  for (const [userId, role] of state.members) if (role === 'owner') return userId;
  return undefined;
}
