// The ONE catalogue of the API's error codes and their HTTP statuses (like fastify's FST_ERR_* list).
// Every problem+json answer carries a `code` from here; clients branch on the code, never on the text.
// Domain codes come from src/domain/errors.ts: the `satisfies` below fails to compile when the domain
// adds a code this file does not map yet.
import { DOMAIN_ERRORS, type DomainErrorCode } from '../domain/errors.js';

interface CatalogueEntry {
  status: number;
  title: string;
}

const entry = (status: number, title: string): CatalogueEntry => ({ status, title });

/** Domain refusals: malformed values are 400, "who are you to ask" 403, missing things 404, state conflicts 409. */
const DOMAIN_STATUSES = {
  invalid_command: 400,
  invalid_user_id: 400,
  invalid_conversation_id: 400,
  invalid_message_id: 400,
  invalid_client_msg_id: 400,
  invalid_device_id: 400,
  invalid_peer: 400,
  invalid_message_kind: 400,
  invalid_body: 400,
  body_too_large: 413,
  invalid_group_name: 400,
  invalid_role: 400,
  invalid_seq: 400,
  invalid_settings: 400,
  too_many_members: 422,
  conversation_not_found: 404,
  conversation_exists: 409,
  not_a_group: 409,
  group_dissolved: 409,
  forbidden: 403,
  already_member: 409,
  not_a_member: 404,
  cannot_remove_owner: 409,
  owner_must_transfer: 409,
  message_not_found: 404,
  not_message_sender: 403,
  edit_window_expired: 409,
  recall_window_expired: 409,
  message_recalled: 409,
  no_change: 409,
} as const satisfies Record<DomainErrorCode, number>;

const domainEntries = Object.fromEntries(
  Object.entries(DOMAIN_STATUSES).map(([code, status]) => [code, entry(status, DOMAIN_ERRORS[code as DomainErrorCode])]),
) as Record<DomainErrorCode, CatalogueEntry>;

const API_ERRORS = {
  // Raised by the command handler itself (not the pure deciders).
  client_msg_id_reused: entry(409, 'This clientMsgId was already used by you for another conversation'),
  validation_failed: entry(400, 'The request does not match the schema of this route'),
  unsupported_media_type: entry(415, 'Request bodies are application/json'),
  invalid_sync_token: entry(400, 'The sync token is not one this service issued'),
  invalid_cursor: entry(400, 'The pagination cursor is not one this service issued'),
  unauthorized: entry(401, 'A valid bearer token is required'),
  token_expired: entry(401, 'The bearer token has expired'),
  not_found: entry(404, 'No such route'),
  method_not_allowed: entry(405, 'This path does not take this method; Allow lists the ones it takes'),
  resync_required: entry(409, 'The sync token is from an older view epoch; sync again without `since`'),
  payload_too_large: entry(413, 'The request body is larger than allowed'),
  request_timeout: entry(408, 'The request did not arrive in time'),
  headers_too_large: entry(431, 'The request line and headers are larger than allowed'),
  rate_limited: entry(429, 'Too many requests; retry after the time given in Retry-After'),
  internal_error: entry(500, 'Internal error'),
  store_unavailable: entry(503, 'The event store is unavailable; retry later'),
  auth_unavailable: entry(503, 'The signing keys could not be fetched; retry later'),
  presence_unavailable: entry(503, 'Presence is not served by this node'),
} as const;

export const ERROR_CATALOGUE: Readonly<Record<string, CatalogueEntry>> = Object.freeze({ ...domainEntries, ...API_ERRORS });

export type ApiErrorCode = DomainErrorCode | keyof typeof API_ERRORS;

export const isCatalogued = (code: string): code is ApiErrorCode => Object.hasOwn(ERROR_CATALOGUE, code);

/** The catalogue entry of a code; an uncatalogued code is an internal error (and a bug to fix here). */
export function catalogueEntry(code: string): CatalogueEntry & { code: string } {
  return isCatalogued(code) ? { code, ...ERROR_CATALOGUE[code]! } : { code: 'internal_error', ...API_ERRORS.internal_error };
}

/** A problem's `type` is this URN plus its code: stable, and it needs no web page to resolve (see docs/api.md). */
export const PROBLEM_TYPE_PREFIX = 'urn:missive:problem:';

/** An error a route raises on purpose, with a catalogued code. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message?: string,
    readonly extensions?: Record<string, unknown>,
    readonly headers?: Record<string, string>,
  ) {
    super(message ?? ERROR_CATALOGUE[code]!.title);
  }
}
