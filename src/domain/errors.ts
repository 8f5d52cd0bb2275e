// The single catalogue of the domain's error codes. A code is a stable contract: clients branch on it,
// the API maps it to an HTTP status (the domain knows nothing of HTTP), and the message beside it is
// the default human-readable text. A code is never renamed or reused for another meaning.

export const DOMAIN_ERRORS = {
  // ---- malformed input (checked before anything else) ----
  invalid_command: 'The command is not one this decider knows',
  invalid_user_id: 'A user id is 1 to 64 characters of letters, digits and _ . @ -',
  invalid_conversation_id: 'The conversation id is not valid',
  invalid_message_id: 'A message id is a lowercase UUID',
  invalid_client_msg_id: 'A clientMsgId is 1 to 64 printable ASCII characters without spaces',
  invalid_device_id: 'A device id is 1 to 64 printable ASCII characters without spaces',
  invalid_peer: 'A direct conversation needs another user as its peer',
  invalid_message_kind: 'A message kind is one of text, image, file, custom',
  invalid_body: 'A message body is a plain JSON object; a text body has a non-empty string `text`',
  body_too_large: 'The message body is larger than allowed',
  invalid_group_name: 'A group name is 1 to 128 characters after trimming, without control characters',
  invalid_role: 'A role is one of owner, admin, member',
  invalid_seq: 'A seq is a non-negative integer',
  invalid_settings: 'Settings muted, pinned and hidden are booleans when present',
  too_many_members: 'Too many members for one group or one command',
  // ---- state and authorization ----
  conversation_not_found: 'The conversation does not exist or you are not a member',
  conversation_exists: 'A conversation with this id already exists',
  not_a_group: 'This operation only applies to a group',
  group_dissolved: 'The group is dissolved and accepts no changes',
  forbidden: 'Your role in this group does not allow this operation',
  already_member: 'All the given users are already members',
  not_a_member: 'The given user is not a member of this group',
  cannot_remove_owner: 'The owner cannot be removed; ownership must be transferred first',
  owner_must_transfer: 'The owner cannot step down; transfer ownership by giving another member the owner role',
  message_not_found: 'The message does not exist in this conversation',
  not_message_sender: 'Only the sender (or, to recall, a group owner or admin) may change this message',
  edit_window_expired: 'The message can no longer be edited',
  recall_window_expired: 'The message can no longer be recalled',
  message_recalled: 'The message was recalled',
  no_change: 'The command would change nothing',
} as const;

export type DomainErrorCode = keyof typeof DOMAIN_ERRORS;

export const DOMAIN_ERROR_CODES = Object.keys(DOMAIN_ERRORS) as DomainErrorCode[];

export interface DomainError {
  readonly code: DomainErrorCode;
  readonly message: string;
  /** Machine-readable specifics (the offending field, a limit); never needed to understand the code. */
  readonly details?: Readonly<Record<string, unknown>>;
}

export type Success<T> = { readonly ok: true; readonly value: T };
export type Failure = { readonly ok: false; readonly error: DomainError };
export type Result<T> = Success<T> | Failure;

export const ok = <T>(value: T): Success<T> => ({ ok: true, value });

export function domainError(code: DomainErrorCode, details?: Record<string, unknown>, message?: string): DomainError {
  return details === undefined ? { code, message: message ?? DOMAIN_ERRORS[code] } : { code, message: message ?? DOMAIN_ERRORS[code], details };
}

export const fail = (code: DomainErrorCode, details?: Record<string, unknown>, message?: string): Failure => ({
  ok: false,
  error: domainError(code, details, message),
});

export const failWith = (error: DomainError): Failure => ({ ok: false, error });

export const isDomainErrorCode = (value: string): value is DomainErrorCode => Object.hasOwn(DOMAIN_ERRORS, value);
