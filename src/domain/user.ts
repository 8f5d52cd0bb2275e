// The per-user decider (DESIGN.md §3), over the user-<userId> stream: read marks and per-conversation
// settings. Membership and the conversation's last seq come in the command (the application reads
// them from the conversation's state), so this stays pure. Read marks only move forward.
import type { ConversationRead, ConversationSettingsChanged, UserEvent } from './events.js';
import { domainError, type DomainError, type Result, failWith, fail, ok } from './errors.js';
import { isValidDeviceId } from './ids.js';
import { checkConversationId, checkUserId } from './commandValidation.js';

// ================================ Stream ================================
// One stream per user, named by userStreamId(userId) (streams.ts).

// ================================ State =================================

export interface ConversationSettings {
  readonly muted: boolean;
  readonly pinned: boolean;
  readonly hidden: boolean;
}

export const DEFAULT_CONVERSATION_SETTINGS: ConversationSettings = Object.freeze({ muted: false, pinned: false, hidden: false });

export interface UserState {
  /** The read mark per conversation (absent = 0: nothing read). */
  readonly marks: ReadonlyMap<string, number>;
  /** Settings per conversation (absent = DEFAULT_CONVERSATION_SETTINGS). */
  readonly settings: ReadonlyMap<string, ConversationSettings>;
}

export const initialUserState: UserState = Object.freeze({ marks: new Map<string, number>(), settings: new Map<string, ConversationSettings>() });

// ================================ Evolve ================================

/** Folds one event into the state; maps are copied on write, so earlier states stay valid. */
export function evolveUser(state: UserState, event: UserEvent): UserState {
  switch (event.type) {
    case 'ConversationRead': {
      const { conversationId, seq } = event.data;
      if (seq <= readMark(state, conversationId)) return state;
      return { ...state, marks: new Map(state.marks).set(conversationId, seq) };
    }
    case 'ConversationSettingsChanged': {
      const { conversationId, muted, pinned, hidden } = event.data;
      const current = settingsOf(state, conversationId);
      const next: ConversationSettings = { muted: muted ?? current.muted, pinned: pinned ?? current.pinned, hidden: hidden ?? current.hidden };
      return { ...state, settings: new Map(state.settings).set(conversationId, next) };
    }
  }
}

// =============================== Commands ===============================

export interface MarkReadCommand {
  readonly type: 'MarkRead';
  readonly userId: string;
  readonly conversationId: string;
  readonly seq: number;
  readonly deviceId: string;
  readonly now: number;
  /** The conversation's last seq as the application knows it: a higher mark is clamped to it. */
  readonly conversationLastSeq: number;
  readonly isMember: boolean;
}

export interface ChangeSettingsCommand {
  readonly type: 'ChangeSettings';
  readonly userId: string;
  readonly conversationId: string;
  /** Absent (or undefined) settings stay as they are. */
  readonly muted?: boolean;
  readonly pinned?: boolean;
  readonly hidden?: boolean;
  readonly now: number;
  readonly isMember: boolean;
}

export type UserCommand = MarkReadCommand | ChangeSettingsCommand;

// ================================ Decide ================================

type Decision = Result<UserEvent[]>;

export function decideUser(command: UserCommand, state: UserState): Decision {
  switch (command.type) {
    case 'MarkRead':
      return markRead(command, state);
    case 'ChangeSettings':
      return changeSettings(command, state);
    default:
      return fail('invalid_command', { type: String((command as { type?: unknown }).type) });
  }
}

const isSeq = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

function markRead(command: MarkReadCommand, state: UserState): Decision {
  const { conversationId, seq, deviceId, conversationLastSeq } = command;
  const invalid =
    checkUserId(command.userId, 'userId') ??
    checkConversationId(conversationId) ??
    (isSeq(seq) ? undefined : domainError('invalid_seq', { field: 'seq' })) ??
    (isSeq(conversationLastSeq) ? undefined : domainError('invalid_seq', { field: 'conversationLastSeq' })) ??
    (isValidDeviceId(deviceId) ? undefined : domainError('invalid_device_id'));
  if (invalid) return failWith(invalid);
  if (!command.isMember) return fail('conversation_not_found');
  const mark = Math.min(seq, conversationLastSeq);
  if (mark <= readMark(state, conversationId)) return ok([]); // a stale or repeated mark changes nothing
  const read: ConversationRead = { type: 'ConversationRead', data: { conversationId, seq: mark, deviceId, readAt: new Date(command.now).toISOString() } };
  return ok([read]);
}

const SETTING_NAMES = ['muted', 'pinned', 'hidden'] as const;

function changeSettings(command: ChangeSettingsCommand, state: UserState): Decision {
  const invalid = checkUserId(command.userId, 'userId') ?? checkConversationId(command.conversationId) ?? invalidSetting(command);
  if (invalid) return failWith(invalid);
  if (!command.isMember) return fail('conversation_not_found');
  const current = settingsOf(state, command.conversationId);
  const changes: { -readonly [K in keyof ConversationSettings]?: boolean } = {};
  for (const name of SETTING_NAMES) {
    const wanted = command[name];
    if (wanted !== undefined && wanted !== current[name]) changes[name] = wanted;
  }
  if (Object.keys(changes).length === 0) return ok([]);
  const changed: ConversationSettingsChanged = {
    type: 'ConversationSettingsChanged',
    data: { conversationId: command.conversationId, ...changes, changedAt: new Date(command.now).toISOString() },
  };
  return ok([changed]);
}

function invalidSetting(command: ChangeSettingsCommand): DomainError | undefined {
  const field = SETTING_NAMES.find((name) => command[name] !== undefined && typeof command[name] !== 'boolean');
  return field === undefined ? undefined : domainError('invalid_settings', { field });
}

// ================================ Query =================================

export const readMark = (state: UserState, conversationId: string): number => state.marks.get(conversationId) ?? 0;

export const settingsOf = (state: UserState, conversationId: string): ConversationSettings =>
  state.settings.get(conversationId) ?? DEFAULT_CONVERSATION_SETTINGS;
