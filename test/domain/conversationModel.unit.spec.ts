// Property: for random command sequences on a group, the decider accepts and refuses exactly what a
// small, independent model of the rules does (same error code), and folding the accepted events with
// evolve yields the model's members, roles (in joining order), name and dissolution, with lastSeq
// equal to the number of events. The model is deliberately naive: arrays, linear scans, no sharing.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ConversationEvent, MemberRole } from '../../src/domain/events.js';
import { domainLimits } from '../../src/domain/limits.js';
import { decideConversation, evolveConversation, initialConversationState, type ConversationCommand } from '../../src/domain/conversation.js';
import { GROUP_ID, HOUR, MINUTE, T0, messageId } from './fixtures.js';

const LIMITS = domainLimits({ editWindowMs: 3 * HOUR, recallWindowMs: 2 * HOUR });
const USERS = ['u0', 'u1', 'u2', 'u3', 'u4'] as const;

/** An action whose target users are of type U (a Who when generated, a user id once resolved). */
type Action<U = string> =
  | { type: 'create'; ids: string[]; name: string }
  | { type: 'rename'; name: string }
  | { type: 'add'; ids: string[] }
  | { type: 'remove'; target: U }
  | { type: 'leave' }
  | { type: 'role'; target: U; role: MemberRole }
  | { type: 'dissolve' }
  | { type: 'send' }
  | { type: 'edit'; pick: number }
  | { type: 'recall'; pick: number };
/** A user by id, or the n-th current member (modulo their count): most commands should come from members. */
type Who = string | { member: number };
type Step<U = Who> = { actor: U; dt: number; action: Action<U> };

const user = fc.constantFrom(...USERS);
const who: fc.Arbitrary<Who> = fc.oneof(user, fc.record({ member: fc.nat() }), fc.record({ member: fc.constant(0) }));
const name = fc.constantFrom('A', 'B');
const action: fc.Arbitrary<Action<Who>> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ type: fc.constant('create' as const), ids: fc.array(user, { maxLength: 4 }), name }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('rename' as const), name }) },
  { weight: 4, arbitrary: fc.record({ type: fc.constant('add' as const), ids: fc.array(user, { maxLength: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('remove' as const), target: who }) },
  { weight: 4, arbitrary: fc.record({ type: fc.constant('leave' as const) }) },
  { weight: 4, arbitrary: fc.record({ type: fc.constant('role' as const), target: who, role: fc.constantFrom<MemberRole>('owner', 'admin', 'member') }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('dissolve' as const) }) },
  { weight: 6, arbitrary: fc.record({ type: fc.constant('send' as const) }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('edit' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('recall' as const), pick: fc.nat() }) },
);
const step: fc.Arbitrary<Step> = fc.record({ actor: who, dt: fc.integer({ min: 0, max: 90 * MINUTE }), action });
const firstStep: fc.Arbitrary<Step> = fc.record({
  actor: user,
  dt: fc.constant(0),
  action: fc.record({ type: fc.constant('create' as const), ids: fc.array(user, { minLength: 2, maxLength: 5 }), name }),
});

// ---- the independent model ----

interface Model {
  created: boolean;
  name: string | null;
  dissolved: boolean;
  /** [userId, role] in joining order. */
  members: Array<[string, MemberRole]>;
  messages: Array<{ id: string; sender: string; sentAt: number; recalled: boolean }>;
}

/** Applies a step to the model; returns the expected error code, or null when it must be accepted. */
function modelStep(m: Model, actor: string, now: number, a: Action, newMessageId: string): string | null {
  const roleOf = (u: string) => m.members.find(([id]) => id === u)?.[1];
  const setRole = (u: string, r: MemberRole) => {
    for (const entry of m.members) if (entry[0] === u) entry[1] = r;
  };
  if (a.type === 'create') {
    if (m.created) return 'conversation_exists';
    m.created = true;
    m.name = a.name;
    for (const u of [actor, ...a.ids]) if (!roleOf(u)) m.members.push([u, u === actor ? 'owner' : 'member']);
    return null;
  }
  if (a.type === 'add' && a.ids.length === 0) return 'invalid_user_id';
  const role = roleOf(actor);
  if (!m.created || !role) return 'conversation_not_found';
  if (m.dissolved) return 'group_dissolved';
  const manager = role === 'owner' || role === 'admin';
  switch (a.type) {
    case 'rename':
      if (!manager) return 'forbidden';
      if (a.name === m.name) return 'no_change';
      m.name = a.name;
      return null;
    case 'add': {
      if (!manager) return 'forbidden';
      const fresh = a.ids.filter((u, i) => !roleOf(u) && a.ids.indexOf(u) === i);
      if (fresh.length === 0) return 'already_member';
      for (const u of fresh) m.members.push([u, 'member']);
      return null;
    }
    case 'remove': {
      if (!manager) return 'forbidden';
      const target = roleOf(a.target);
      if (!target) return 'not_a_member';
      if (target === 'owner') return 'cannot_remove_owner';
      if (role === 'admin' && target === 'admin') return 'forbidden';
      m.members = m.members.filter(([id]) => id !== a.target);
      return null;
    }
    case 'leave': {
      if (role === 'owner') {
        const others = m.members.filter(([id]) => id !== actor);
        const heir = others.find(([, r]) => r === 'admin') ?? others[0];
        if (heir) setRole(heir[0], 'owner');
      }
      m.members = m.members.filter(([id]) => id !== actor);
      return null;
    }
    case 'role': {
      if (role !== 'owner') return 'forbidden';
      const target = roleOf(a.target);
      if (!target) return 'not_a_member';
      if (target === a.role) return 'no_change';
      if (a.target === actor) return 'owner_must_transfer';
      setRole(a.target, a.role);
      if (a.role === 'owner') setRole(actor, 'admin');
      return null;
    }
    case 'dissolve':
      if (role !== 'owner') return 'forbidden';
      m.dissolved = true;
      return null;
    case 'send':
      m.messages.push({ id: newMessageId, sender: actor, sentAt: now, recalled: false });
      return null;
    case 'edit':
    case 'recall': {
      const target = m.messages[a.pick % Math.max(1, m.messages.length)];
      if (!target) return 'message_not_found';
      // Forgotten once older than the longer window before the newest message: then outside the window.
      const newest = Math.max(...m.messages.map((x) => x.sentAt));
      if (newest - target.sentAt > Math.max(LIMITS.editWindowMs, LIMITS.recallWindowMs)) return `${a.type}_window_expired`;
      const mayRecall = target.sender === actor || manager;
      if (a.type === 'edit' ? target.sender !== actor : !mayRecall) return 'not_message_sender';
      if (target.recalled) return 'message_recalled';
      if (a.type === 'edit') return now - target.sentAt > LIMITS.editWindowMs ? 'edit_window_expired' : null;
      if (now - target.sentAt > LIMITS.recallWindowMs) return 'recall_window_expired';
      target.recalled = true;
      return null;
    }
  }
}

/** The step with its users resolved against the model's current members. */
function resolve(s: Step, m: Model): Step<string> {
  const id = (w: Who): string => (typeof w === 'string' ? w : (m.members[w.member % Math.max(1, m.members.length)]?.[0] ?? 'u0'));
  const a = s.action;
  const action: Action<string> = a.type === 'remove' || a.type === 'role' ? { ...a, target: id(a.target) } : a;
  return { actor: id(s.actor), dt: s.dt, action };
}

function commandFor(s: Step<string>, now: number, m: Model, newMessageId: string): ConversationCommand {
  const base = { actorId: s.actor, now };
  const a = s.action;
  const pickId = (pick: number) => m.messages[pick % Math.max(1, m.messages.length)]?.id ?? messageId(999_999);
  switch (a.type) {
    case 'create':
      return { ...base, type: 'CreateGroup', conversationId: GROUP_ID, name: a.name, memberIds: a.ids };
    case 'rename':
      return { ...base, type: 'RenameGroup', name: a.name };
    case 'add':
      return { ...base, type: 'AddMembers', userIds: a.ids };
    case 'remove':
      return { ...base, type: 'RemoveMember', userId: a.target };
    case 'leave':
      return { ...base, type: 'LeaveGroup' };
    case 'role':
      return { ...base, type: 'ChangeRole', userId: a.target, role: a.role };
    case 'dissolve':
      return { ...base, type: 'DissolveGroup' };
    case 'send':
      return { ...base, type: 'SendMessage', messageId: newMessageId, clientMsgId: newMessageId.slice(-6), kind: 'text', body: { text: 'x' } };
    case 'edit':
      return { ...base, type: 'EditMessage', messageId: pickId(a.pick), body: { text: 'y' } };
    case 'recall':
      return { ...base, type: 'RecallMessage', messageId: pickId(a.pick) };
  }
}

describe('the conversation decider against an independent model', () => {
  it('agrees on every decision, and the folded state agrees on members, roles, name and seq', () => {
    fc.assert(
      fc.property(firstStep, fc.array(step, { maxLength: 80, size: 'max' }), (first, rest) => {
        const model: Model = { created: false, name: null, dissolved: false, members: [], messages: [] };
        let state = initialConversationState;
        const log: ConversationEvent[] = [];
        let now = T0;
        let sent = 0;
        for (const generated of [first, ...rest]) {
          const s = resolve(generated, model);
          now += s.dt;
          const newId = messageId(sent + 1);
          const command = commandFor(s, now, model, newId); // built before the model moves on
          const expectedCode = modelStep(model, s.actor, now, s.action, newId);
          const decision = decideConversation(command, state, LIMITS);
          expect({ step: s, outcome: decision.ok ? 'accepted' : decision.error.code }).toEqual({ step: s, outcome: expectedCode ?? 'accepted' });
          if (!decision.ok) continue;
          if (s.action.type === 'send') sent++;
          for (const event of decision.value) {
            log.push(event);
            state = evolveConversation(state, event, log.length, LIMITS);
          }
          if (state.status !== 'open') throw new Error('an accepted command left the stream empty');
          expect(state.lastSeq).toBe(log.length);
          expect([...state.members]).toEqual(model.members);
          expect({ name: state.name, dissolved: state.dissolved }).toEqual({ name: model.name, dissolved: model.dissolved });
          const owners = [...state.members.values()].filter((r) => r === 'owner').length;
          expect(owners).toBe(state.members.size > 0 ? 1 : 0);
        }
      }),
      { numRuns: 400 },
    );
  });
});
