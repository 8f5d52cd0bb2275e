// The error catalogue and the translation of thrown errors into problems: every domain code has a
// client-error status, every answer has the problem shape, and nothing internal leaks.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CommandRejectedError } from '../../src/app/commandService.js';
import { AuthError } from '../../src/auth/tokens.js';
import { ApiError, ERROR_CATALOGUE, PROBLEM_TYPE_PREFIX } from '../../src/api/errors.js';
import { answerForError } from '../../src/api/problem.js';
import { DOMAIN_ERROR_CODES } from '../../src/domain/errors.js';
import { ResyncRequiredError } from '../../src/projections/errors.js';
import { StoreUnavailableError } from '../../src/store/eventStore.js';

describe('error catalogue', () => {
  it('maps every domain code to a 4xx status', () => {
    for (const code of DOMAIN_ERROR_CODES) {
      expect(ERROR_CATALOGUE[code], code).toBeDefined();
      expect(ERROR_CATALOGUE[code]!.status, code).toBeGreaterThanOrEqual(400);
      expect(ERROR_CATALOGUE[code]!.status, code).toBeLessThan(500);
    }
  });

  it('is documented: docs/api.md lists every code with its status', () => {
    const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
    for (const [code, { status }] of Object.entries(ERROR_CATALOGUE)) expect(doc, code).toContain(`| ${status} | \`${code}\` |`);
  });

  it('has the API codes with their fixed statuses', () => {
    const expected = {
      validation_failed: 400,
      unauthorized: 401,
      token_expired: 401,
      forbidden: 403,
      not_found: 404,
      conversation_not_found: 404,
      rate_limited: 429,
      payload_too_large: 413,
      invalid_sync_token: 400,
      resync_required: 409,
      store_unavailable: 503,
      internal_error: 500,
    };
    for (const [code, status] of Object.entries(expected)) expect(ERROR_CATALOGUE[code]?.status, code).toBe(status);
  });
});

describe('answerForError', () => {
  it('keeps a domain rejection’s code and details', () => {
    const { problem } = answerForError(new CommandRejectedError('forbidden', 'Your role in this group does not allow this operation', { role: 'member' }));
    expect(problem).toEqual({
      type: `${PROBLEM_TYPE_PREFIX}forbidden`,
      title: ERROR_CATALOGUE.forbidden!.title,
      status: 403,
      code: 'forbidden',
      detail: 'Your role in this group does not allow this operation',
      details: { role: 'member' },
    });
  });

  it('answers an unknown error with internal_error and none of its text', () => {
    const secret = new Error('connect ECONNREFUSED /var/run/secret.sock at Object.<anonymous> (/app/src/x.ts:1:1)');
    const { problem, unexpected } = answerForError(secret);
    expect(problem.code).toBe('internal_error');
    expect(problem.status).toBe(500);
    expect(JSON.stringify(problem)).not.toMatch(/secret|ECONNREFUSED|\.ts/);
    expect(unexpected).toBe(true);
  });

  it('adds Retry-After to store_unavailable and WWW-Authenticate to 401s', () => {
    expect(answerForError(new StoreUnavailableError('pg down'))).toMatchObject({ problem: { status: 503, code: 'store_unavailable' }, headers: { 'retry-after': '1' } });
    expect(answerForError(new AuthError('token_expired', 'expired'))).toMatchObject({
      problem: { status: 401, code: 'token_expired' },
      headers: { 'www-authenticate': expect.stringContaining('Bearer') },
    });
  });

  it('says how to start over on resync_required', () => {
    const { problem } = answerForError(new ResyncRequiredError('epoch_changed', 'The sync cursor is from epoch 1; the views are at epoch 2'));
    expect(problem).toMatchObject({ status: 409, code: 'resync_required', resync: { method: 'GET', path: '/v1/sync' } });
    expect(problem.detail).toMatch(/without `since`/);
  });

  it('keeps an uncatalogued rejection code as a 400 rather than hiding it', () => {
    const { problem } = answerForError(new CommandRejectedError('some_new_code', 'new rule'));
    expect(problem).toMatchObject({ status: 400, code: 'some_new_code' });
  });

  it('uses the catalogue title as the default detail of an ApiError', () => {
    expect(answerForError(new ApiError('conversation_not_found')).problem.detail).toBe(ERROR_CATALOGUE.conversation_not_found!.title);
  });
});
