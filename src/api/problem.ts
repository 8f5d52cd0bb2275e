// Turns anything a route can throw into an RFC 9457 problem ({ type, title, status, code, detail }).
// Known errors keep their stable code; anything unknown becomes internal_error with a fixed text, so a
// stack trace, SQL or a file path never reaches a client.
import { CommandRejectedError } from '../app/commandService.js';
import { AuthError, AuthUnavailableError } from '../auth/tokens.js';
import { InvalidCursorError, InvalidQueryError, ResyncRequiredError } from '../projections/errors.js';
import { EventTooLargeError, StoreUnavailableError } from '../store/eventStore.js';
import { InvalidStoreRequestError } from '../store/memory/requestChecks.js';
import { isUnavailable } from '../store/postgres/storeErrors.js';
import { ApiError, catalogueEntry, PROBLEM_TYPE_PREFIX, type ApiErrorCode } from './errors.js';
import { InvalidSyncTokenError } from './syncToken.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ValidationIssue {
  /** Where: the request part and a JSON pointer inside it, e.g. "body/name". */
  path: string;
  message: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  /** validation_failed: what was wrong, where. */
  errors?: ValidationIssue[];
  /** resync_required: how to start over. */
  resync?: { method: 'GET'; path: string };
  /** Domain specifics (the offending field, a limit). */
  details?: Record<string, unknown>;
}

export interface ProblemAnswer {
  problem: Problem;
  headers: Record<string, string>;
  /** Unexpected errors are logged with their stack; expected ones are not noise. */
  unexpected: boolean;
}

/** Retry-After (seconds) on answers that a retry may fix. */
const RETRY_AFTER_SECONDS = '1';
export const SYNC_PATH = '/v1/sync';

export function problemOf(code: ApiErrorCode | string, detail?: string, extra: Partial<Problem> = {}): Problem {
  const known = catalogueEntry(code);
  return {
    type: `${PROBLEM_TYPE_PREFIX}${known.code}`,
    title: known.title,
    status: known.status,
    code: known.code,
    detail: detail ?? known.title,
    ...extra,
  };
}

const answer = (problem: Problem, headers: Record<string, string> = {}, unexpected = false): ProblemAnswer => ({ problem, headers, unexpected });

interface FastifyLikeError {
  code?: unknown;
  statusCode?: unknown;
  validation?: Array<{ instancePath?: string; message?: string }>;
  validationContext?: string;
}

export function answerForError(error: unknown): ProblemAnswer {
  if (error instanceof ApiError) return answer(problemOf(error.code, error.message, error.extensions), error.headers);
  if (error instanceof CommandRejectedError) {
    const details = error.details === undefined ? {} : { details: error.details };
    // An uncatalogued rejection code is a bug, but still the client's refusal: keep its code, answer 400.
    const problem = problemOf(error.code, error.message, details);
    return problem.code === error.code ? answer(problem) : answer({ ...problem, status: 400, code: error.code, title: error.message }, {}, true);
  }
  if (error instanceof AuthError) {
    return answer(problemOf(error.code, error.message), { 'www-authenticate': `Bearer error="invalid_token"` });
  }
  if (error instanceof AuthUnavailableError) return answer(problemOf('auth_unavailable'), { 'retry-after': RETRY_AFTER_SECONDS }, true);
  if (error instanceof InvalidSyncTokenError) return answer(problemOf('invalid_sync_token', error.message));
  if (error instanceof ResyncRequiredError) {
    const detail = `${error.message}. Start over: GET ${SYNC_PATH} without \`since\`, then keep the token it returns.`;
    return answer(problemOf('resync_required', detail, { resync: { method: 'GET', path: SYNC_PATH } }));
  }
  if (error instanceof InvalidCursorError) return answer(problemOf('invalid_cursor', error.message));
  if (error instanceof InvalidQueryError) return answer(problemOf('validation_failed', error.message, { errors: [{ path: `querystring/${error.field}`, message: error.message }] }));
  if (error instanceof EventTooLargeError) return answer(problemOf('payload_too_large', 'The event would be larger than the store accepts'));
  if (error instanceof InvalidStoreRequestError) return answer(problemOf('validation_failed', 'A value cannot be stored (e.g. a NUL character in text)'));
  if (error instanceof StoreUnavailableError || isUnavailable(error)) {
    return answer(problemOf('store_unavailable'), { 'retry-after': RETRY_AFTER_SECONDS }, true);
  }
  return answerForFastifyError(error as FastifyLikeError) ?? answer(problemOf('internal_error'), {}, true);
}

/** Fastify's own errors (validation, body parsing, size) by their FST_ codes or status. */
function answerForFastifyError(error: FastifyLikeError): ProblemAnswer | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  if (Array.isArray(error.validation)) {
    const part = error.validationContext ?? 'request';
    const errors = error.validation.map((v) => ({ path: `${part}${v.instancePath ?? ''}`, message: v.message ?? 'is invalid' }));
    const detail = errors.map((e) => `${e.path}: ${e.message}`).join('; ');
    return answer(problemOf('validation_failed', detail, { errors }));
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return answer(problemOf('payload_too_large'));
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return answer(problemOf('unsupported_media_type'));
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return answer(problemOf('validation_failed', 'The body must be a JSON document'));
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return answer(problemOf('validation_failed', 'The body is not valid JSON'));
    // Raised by the router before the route's schema runs: no id of ours is that long.
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return answer(problemOf('validation_failed', 'A path parameter is longer than any valid value', { errors: [{ path: 'params', message: 'too long' }] }));
  }
  if (error.statusCode === 400) return answer(problemOf('validation_failed', 'The request is malformed'));
  if (error.statusCode === 404) return answer(problemOf('not_found'));
  if (error.statusCode === 413) return answer(problemOf('payload_too_large'));
  if (error.statusCode === 415) return answer(problemOf('unsupported_media_type'));
  return undefined;
}
