// Field checks shared by the deciders. A decider validates every field of a command before it looks at
// state, so malformed input always gets its specific invalid_* code, whoever sends it.
import type { MemberRole } from './events.js';
import { domainError, type DomainError, type Result, fail, ok } from './errors.js';
import { isUuid, isValidUserId } from './ids.js';

export const MEMBER_ROLES = ['owner', 'admin', 'member'] as const satisfies readonly MemberRole[];

export const isMemberRole = (value: unknown): value is MemberRole => (MEMBER_ROLES as readonly unknown[]).includes(value);

export const checkUserId = (value: unknown, field: string): DomainError | undefined =>
  isValidUserId(value) ? undefined : domainError('invalid_user_id', { field });

export const checkConversationId = (value: unknown): DomainError | undefined =>
  isUuid(value) ? undefined : domainError('invalid_conversation_id');

/** A non-empty list of valid user ids, at most `maxCount` long (duplicates allowed; callers dedupe). */
export function checkUserIdList(value: unknown, field: string, maxCount: number): DomainError | undefined {
  if (!Array.isArray(value)) return domainError('invalid_user_id', { field, reason: 'not_a_list' });
  if (value.length > maxCount) return domainError('too_many_members', { field, max: maxCount, given: value.length });
  for (let index = 0; index < value.length; index++) {
    if (!isValidUserId(value[index])) return domainError('invalid_user_id', { field, index });
  }
  return undefined;
}

// C0 and C1 control characters, including newlines and tabs: a name is one line of visible text.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** The trimmed group name, or invalid_group_name. Length counts code points, not UTF-16 units. */
export function normalizeGroupName(value: unknown, maxLength: number): Result<string> {
  if (typeof value !== 'string') return fail('invalid_group_name', { reason: 'not_a_string' });
  const name = value.trim();
  if (name.length === 0) return fail('invalid_group_name', { reason: 'empty' });
  if (name.length > maxLength && [...name].length > maxLength) return fail('invalid_group_name', { reason: 'too_long', maxLength });
  if (CONTROL_CHARACTER.test(name)) return fail('invalid_group_name', { reason: 'control_character' });
  return ok(name);
}
