// Random histories for the projection property tests: fast-check generates a script of user intents
// in a small world (4-8 users, a few directs and groups that cross a small fan-out limit both ways),
// and `historyOf` plays it through the real pure deciders, exactly as the command handler would.
// Refused commands are dropped; a retried send is kept (same event id) so the store deduplicates it.
import fc from 'fast-check';
import { v7 as uuidv7 } from 'uuid';
import { decideConversation, evolveConversation, initialConversationState, type ConversationCommand, type ConversationState } from '../../src/domain/conversation.js';
import { decideUser, evolveUser, initialUserState, type UserCommand, type UserState } from '../../src/domain/user.js';
import { directConversationId, messageSentEventId } from '../../src/domain/ids.js';
import { DEFAULT_LIMITS, type DomainLimits } from '../../src/domain/limits.js';
import { SCHEMA_VERSION, type DomainEvent, type MemberRole, type MessageBody, type MessageKind } from '../../src/domain/events.js';
import { conversationStreamId, userStreamId } from '../../src/domain/streams.js';
import type { NewEvent } from '../../src/store/eventStore.js';
import type { HistoryAppend } from '../support/history.js';

/** Which user among the eligible ones (or, when `outsider`, among everybody: usually refused). */
interface ActorPick {
  actor: number;
  outsider: boolean;
}

export type ReadMarkPick =
  | { kind: 'last' }
  | { kind: 'stale'; back: number }
  | { kind: 'beyond'; extra: number }
  | { kind: 'at'; seq: number };

export type ScriptStep =
  | { op: 'openDirect'; a: number; b: number }
  | { op: 'createGroup'; owner: number; others: number[]; name: number }
  | ({ op: 'rename'; conv: number; name: number } & ActorPick)
  | ({ op: 'addMembers'; conv: number; users: number[] } & ActorPick)
  | ({ op: 'removeMember'; conv: number; target: number } & ActorPick)
  | ({ op: 'leave'; conv: number } & ActorPick)
  | ({ op: 'changeRole'; conv: number; target: number; role: MemberRole } & ActorPick)
  | ({ op: 'dissolve'; conv: number } & ActorPick)
  | ({ op: 'send'; conv: number; kind: MessageKind } & ActorPick)
  | { op: 'retry'; back: number }
  | ({ op: 'edit'; conv: number; message: number } & ActorPick)
  | ({ op: 'recall'; conv: number; message: number } & ActorPick)
  | ({ op: 'read'; conv: number; device: number; mark: ReadMarkPick } & ActorPick)
  | ({ op: 'settings'; conv: number; muted?: boolean; pinned?: boolean; hidden?: boolean } & ActorPick)
  | { op: 'tick'; ms: number };

export interface Script {
  userCount: number;
  steps: ScriptStep[];
}

export interface GeneratedHistory {
  users: string[];
  /** Every conversation opened, in creation order. */
  conversationIds: string[];
  /** One append per accepted command, in order; a retried send appears again with the same event id. */
  appends: HistoryAppend[];
}

export const MIN_USERS = 4;
export const MAX_USERS = 8;
/** The histories start just before a month boundary, so timeline items land in several partitions. */
export const HISTORY_START_MS = Date.parse('2024-01-31T22:00:00.000Z');

const pick = fc.nat({ max: 31 });
const actorPick = { actor: pick, outsider: fc.nat({ max: 9 }).map((n) => n === 0) };

const stepArbitrary: fc.Arbitrary<ScriptStep> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ op: fc.constant('openDirect' as const), a: pick, b: pick }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('createGroup' as const), owner: pick, others: fc.array(pick, { minLength: 1, maxLength: 4 }), name: pick }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('rename' as const), conv: pick, name: pick, ...actorPick }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('addMembers' as const), conv: pick, users: fc.array(pick, { minLength: 1, maxLength: 3 }), ...actorPick }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('removeMember' as const), conv: pick, target: pick, ...actorPick }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('leave' as const), conv: pick, ...actorPick }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('changeRole' as const), conv: pick, target: pick, role: fc.constantFrom<MemberRole>('owner', 'admin', 'member'), ...actorPick }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dissolve' as const), conv: pick, ...actorPick }) },
  {
    weight: 14,
    arbitrary: fc.record({ op: fc.constant('send' as const), conv: pick, kind: fc.constantFrom<MessageKind>('text', 'text', 'image', 'custom'), ...actorPick }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('retry' as const), back: fc.nat({ max: 5 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('edit' as const), conv: pick, message: pick, ...actorPick }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('recall' as const), conv: pick, message: pick, ...actorPick }) },
  {
    weight: 7,
    arbitrary: fc.record({
      op: fc.constant('read' as const),
      conv: pick,
      device: fc.nat({ max: 2 }),
      mark: fc.oneof(
        fc.constant<ReadMarkPick>({ kind: 'last' }),
        fc.record({ kind: fc.constant('stale' as const), back: fc.integer({ min: 1, max: 6 }) }),
        fc.record({ kind: fc.constant('beyond' as const), extra: fc.integer({ min: 1, max: 50 }) }),
        fc.record({ kind: fc.constant('at' as const), seq: fc.nat({ max: 40 }) }),
      ),
      ...actorPick,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      { op: fc.constant('settings' as const), conv: pick, muted: fc.boolean(), pinned: fc.boolean(), hidden: fc.boolean(), ...actorPick },
      { requiredKeys: ['op', 'conv', 'actor', 'outsider'] },
    ),
  },
  // Mostly minutes; sometimes more than a day, which closes edit/recall windows and crosses months.
  { weight: 1, arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.oneof(fc.integer({ min: 1, max: 600_000 }), fc.constant(26 * 3600_000)) }) },
);

/** A script of `minSteps`..`maxSteps` steps in a world of 4-8 users. */
export function scriptArbitrary(options: { minSteps?: number; maxSteps?: number } = {}): fc.Arbitrary<Script> {
  // Every script starts with a group and a direct conversation, so no run is an empty world.
  const prelude = fc.tuple(
    fc.record({ op: fc.constant('createGroup' as const), owner: pick, others: fc.array(pick, { minLength: 2, maxLength: 4 }), name: pick }),
    fc.record({ op: fc.constant('openDirect' as const), a: pick, b: pick }),
  );
  return fc.record({
    userCount: fc.integer({ min: MIN_USERS, max: MAX_USERS }),
    prelude,
    steps: fc.array(stepArbitrary, { minLength: options.minSteps ?? 30, maxLength: options.maxSteps ?? 120, size: 'max' }),
  }).map(({ userCount, prelude: [group, direct], steps }) => ({ userCount, steps: [group, direct, ...steps] }));
}

export const userIdOf = (index: number): string => `u${index + 1}`;

interface SendAttempt {
  conversationId: string;
  senderId: string;
  clientMsgId: string;
  kind: MessageKind;
  body: MessageBody;
}

/** Deterministic UUIDv7s (time from the script's clock, a counter for uniqueness): replays are identical. */
function createIdSource(seed: number) {
  let counter = 0;
  return (nowMs: number): string => {
    counter++;
    const random = new Uint8Array(16);
    const view = new DataView(random.buffer);
    view.setUint32(0, seed >>> 0);
    view.setUint32(8, counter);
    return uuidv7({ msecs: nowMs, random });
  };
}

const bodyFor = (kind: MessageKind, n: number): MessageBody =>
  kind === 'text' ? { text: `message ${n}` } : kind === 'image' ? { url: `https://img.example/${n}.png`, width: n } : { payload: { n } };

/** Plays `script` through the real deciders and returns the events to append, in order. */
export function historyOf(script: Script, options: { limits?: DomainLimits; seed?: number } = {}): GeneratedHistory {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const users = Array.from({ length: script.userCount }, (_, i) => userIdOf(i));
  const newId = createIdSource(options.seed ?? 1);
  const conversationStates = new Map<string, ConversationState>();
  const userStates = new Map<string, UserState>();
  const conversationIds: string[] = [];
  /** Every MessageSent accepted, per conversation, in order (for edit/recall targets). */
  const sentMessages = new Map<string, Array<{ messageId: string; senderId: string }>>();
  /** Stored send event ids → their stream (a retry elsewhere would be refused by the store). */
  const storedSendIds = new Map<string, string>();
  const attempts: SendAttempt[] = [];
  const appends: HistoryAppend[] = [];
  let now = HISTORY_START_MS;
  let sendCounter = 0;

  const user = (n: number): string => users[n % users.length]!;
  const conversationState = (id: string): ConversationState => conversationStates.get(id) ?? initialConversationState;
  const openState = (id: string) => {
    const state = conversationState(id);
    return state.status === 'open' ? state : undefined;
  };

  const toNewEvent = (event: DomainEvent, actorId: string, deviceId: string | undefined, eventId: string): NewEvent => ({
    eventId,
    type: event.type,
    data: event.data,
    metadata: deviceId === undefined ? { actorId, schemaVersion: SCHEMA_VERSION } : { actorId, deviceId, schemaVersion: SCHEMA_VERSION },
  });

  /** Decides a conversation command; appends and evolves on success. `sendEventId` marks a send. */
  function runConversation(conversationId: string, command: ConversationCommand, sendEventId?: string): void {
    const streamId = conversationStreamId(conversationId);
    if (sendEventId !== undefined) {
      const storedIn = storedSendIds.get(sendEventId);
      if (storedIn !== undefined && storedIn !== streamId) return; // the store refuses a reused clientMsgId
    }
    const state = conversationState(conversationId);
    const decision = decideConversation(command, state, limits);
    if (!decision.ok || decision.value.length === 0) return;
    const events = decision.value.map((e) => toNewEvent(e, command.actorId, undefined, e.type === 'MessageSent' && sendEventId ? sendEventId : newId(now)));
    appends.push({ streamId, events });
    if (sendEventId !== undefined && storedSendIds.has(sendEventId)) return; // a retry: the store keeps the original
    if (sendEventId !== undefined) storedSendIds.set(sendEventId, streamId);
    let next = state;
    for (const event of decision.value) {
      next = evolveConversation(next, event, (next.status === 'open' ? next.lastSeq : 0) + 1, limits);
      if (event.type === 'MessageSent') {
        const list = sentMessages.get(conversationId) ?? [];
        list.push({ messageId: event.data.messageId, senderId: event.data.senderId });
        sentMessages.set(conversationId, list);
      }
    }
    if (state.status === 'empty') conversationIds.push(conversationId);
    conversationStates.set(conversationId, next);
  }

  function runUser(command: UserCommand, deviceId: string | undefined): void {
    const state = userStates.get(command.userId) ?? initialUserState;
    const decision = decideUser(command, state);
    if (!decision.ok || decision.value.length === 0) return;
    appends.push({ streamId: userStreamId(command.userId), events: decision.value.map((e) => toNewEvent(e, command.userId, deviceId, newId(now))) });
    userStates.set(command.userId, decision.value.reduce(evolveUser, state));
  }

  /** The actor for a step: among `eligible` (by role), or anybody when the step plays an outsider. */
  function actorFor(step: ActorPick, conversationId: string, eligible: (role: MemberRole) => boolean): string {
    const members = [...(openState(conversationId)?.members ?? new Map<string, MemberRole>())].filter(([, role]) => eligible(role)).map(([id]) => id);
    if (step.outsider || members.length === 0) return user(step.actor);
    return members[step.actor % members.length]!;
  }

  const anyRole = () => true;
  const manager = (role: MemberRole) => role !== 'member';
  const ownerOnly = (role: MemberRole) => role === 'owner';

  for (const step of script.steps) {
    now += 1000;
    if (step.op === 'tick') {
      now += step.ms;
      continue;
    }
    if (step.op === 'openDirect') {
      const a = user(step.a);
      const b = user(step.b);
      runConversation(directConversationId(a, b), { type: 'OpenDirect', actorId: a, now, conversationId: directConversationId(a, b), peerId: b });
      continue;
    }
    if (step.op === 'createGroup') {
      const conversationId = newId(now);
      const memberIds = step.others.map(user);
      runConversation(conversationId, { type: 'CreateGroup', actorId: user(step.owner), now, conversationId, name: `group ${step.name}`, memberIds });
      continue;
    }
    if (step.op === 'retry') {
      const attempt = attempts[attempts.length - 1 - step.back];
      if (!attempt) continue;
      const { conversationId, senderId, clientMsgId, kind, body } = attempt;
      const command: ConversationCommand = { type: 'SendMessage', actorId: senderId, now, messageId: newId(now), clientMsgId, kind, body };
      runConversation(conversationId, command, messageSentEventId(senderId, clientMsgId));
      continue;
    }
    // Outsiders aim anywhere; members aim at conversations that still accept commands.
    const live = conversationIds.filter((id) => !openState(id)!.dissolved && openState(id)!.members.size > 0);
    const targets = 'outsider' in step && !step.outsider && live.length > 0 ? live : conversationIds;
    if (targets.length === 0) continue;
    const conversationId = targets[step.conv % targets.length]!;
    const state = openState(conversationId)!;
    const base = { now };
    switch (step.op) {
      case 'rename':
        runConversation(conversationId, { ...base, type: 'RenameGroup', actorId: actorFor(step, conversationId, manager), name: `group ${step.name}` });
        break;
      case 'addMembers':
        runConversation(conversationId, { ...base, type: 'AddMembers', actorId: actorFor(step, conversationId, manager), userIds: step.users.map(user) });
        break;
      case 'removeMember': {
        const actorId = actorFor(step, conversationId, manager);
        runConversation(conversationId, { ...base, type: 'RemoveMember', actorId, userId: actorFor({ actor: step.target, outsider: false }, conversationId, anyRole) });
        break;
      }
      case 'leave':
        runConversation(conversationId, { ...base, type: 'LeaveGroup', actorId: actorFor(step, conversationId, anyRole) });
        break;
      case 'changeRole': {
        const actorId = actorFor(step, conversationId, ownerOnly);
        const userId = actorFor({ actor: step.target, outsider: false }, conversationId, anyRole);
        runConversation(conversationId, { ...base, type: 'ChangeRole', actorId, userId, role: step.role });
        break;
      }
      case 'dissolve':
        runConversation(conversationId, { ...base, type: 'DissolveGroup', actorId: actorFor(step, conversationId, ownerOnly) });
        break;
      case 'send': {
        const senderId = actorFor(step, conversationId, anyRole);
        sendCounter++;
        const attempt: SendAttempt = { conversationId, senderId, clientMsgId: `c${sendCounter}`, kind: step.kind, body: bodyFor(step.kind, sendCounter) };
        attempts.push(attempt);
        const command: ConversationCommand = { ...base, type: 'SendMessage', actorId: senderId, messageId: newId(now), clientMsgId: attempt.clientMsgId, kind: attempt.kind, body: attempt.body };
        runConversation(conversationId, command, messageSentEventId(senderId, attempt.clientMsgId));
        break;
      }
      case 'edit':
      case 'recall': {
        const messages = sentMessages.get(conversationId) ?? [];
        const target = messages[messages.length - 1 - (step.message % Math.max(1, messages.length))];
        if (!target) break;
        // Edits come from the sender; recalls from the sender or (as actorFor picks) a manager.
        const actorId = step.outsider ? user(step.actor) : step.op === 'edit' || step.actor % 3 !== 0 ? target.senderId : actorFor(step, conversationId, manager);
        sendCounter++;
        if (step.op === 'edit') runConversation(conversationId, { ...base, type: 'EditMessage', actorId, messageId: target.messageId, body: { text: `edited ${sendCounter}` } });
        else runConversation(conversationId, { ...base, type: 'RecallMessage', actorId, messageId: target.messageId });
        break;
      }
      case 'read': {
        const userId = actorFor(step, conversationId, anyRole);
        const readable = !state.dissolved && state.members.has(userId);
        const mark = readMarkSeq(step.mark, state.lastSeq, (userStates.get(userId) ?? initialUserState).marks.get(conversationId) ?? 0);
        const deviceId = `d${step.device}`;
        runUser(
          { type: 'MarkRead', userId, conversationId, seq: mark, deviceId, now, conversationLastSeq: readable ? state.lastSeq : 0, isMember: readable },
          deviceId,
        );
        break;
      }
      case 'settings': {
        const userId = actorFor(step, conversationId, anyRole);
        const isMember = !state.dissolved && state.members.has(userId);
        const { muted, pinned, hidden } = step;
        runUser({ type: 'ChangeSettings', userId, conversationId, now, isMember, ...definedOnly({ muted, pinned, hidden }) }, undefined);
        break;
      }
    }
  }
  return { users, conversationIds, appends };
}

function readMarkSeq(pickMark: ReadMarkPick, lastSeq: number, currentMark: number): number {
  switch (pickMark.kind) {
    case 'last':
      return lastSeq;
    case 'stale':
      return Math.max(0, currentMark - pickMark.back);
    case 'beyond':
      return lastSeq + pickMark.extra;
    case 'at':
      return pickMark.seq;
  }
}

function definedOnly<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Scripts played into histories; `seed` keeps generated ids apart between runs sharing a store. */
export const historyArbitrary = (options: { minSteps?: number; maxSteps?: number; seed?: number } = {}): fc.Arbitrary<{ script: Script; history: GeneratedHistory }> =>
  scriptArbitrary(options).map((script) => ({ script, history: historyOf(script, { seed: options.seed }) }));
