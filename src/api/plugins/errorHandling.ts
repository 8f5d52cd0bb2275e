// Every failure leaves as application/problem+json with a catalogued code: route errors, validation,
// body parsing and size, unknown routes, and the framework's own early refusals (bad URLs). Unexpected
// errors are logged with their stack on our side only.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { answerForError, problemOf, PROBLEM_CONTENT_TYPE, type Problem } from '../problem.js';
import type { AllowedMethods } from './allowedMethods.js';

export function sendProblem(reply: FastifyReply, problem: Problem, headers: Record<string, string> = {}): FastifyReply {
  return reply.code(problem.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(problem);
}

export function replyWithError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { problem, headers, unexpected } = answerForError(error);
  if (unexpected) request.log.error({ err: error, code: problem.code }, 'request failed');
  else request.log.info({ code: problem.code, status: problem.status }, 'request refused');
  return sendProblem(reply, problem, headers);
}

export function installErrorHandling(app: FastifyInstance, allowed: AllowedMethods): void {
  /** 405 when no route took the request but its path exists with other methods. */
  const methodNotAllowed = (request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined => {
    if (request.routeOptions.url !== undefined) return undefined;
    const path = request.url.split('?')[0]!;
    const methods = allowed.of(path);
    if (methods.length === 0 || methods.includes(request.method)) return undefined;
    return sendProblem(reply, problemOf('method_not_allowed', `${path} takes ${methods.join(', ')}`), { allow: methods.join(', ') });
  };
  // Errors raised before routing (e.g. Fastify wants a content type for an unknown QUERY method) too.
  app.setErrorHandler((error: FastifyError, request, reply) => methodNotAllowed(request, reply) ?? replyWithError(error, request, reply));
  app.setNotFoundHandler(
    (request, reply) => methodNotAllowed(request, reply) ?? sendProblem(reply, problemOf('not_found', `No route ${request.method} ${request.url.split('?')[0]}`)),
  );
}

/** For Fastify's `frameworkErrors` option: errors raised before routing (e.g. a malformed URL). */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  replyWithError(error, request, reply);
}

/** The code of a request Node's HTTP parser refused before Fastify saw it. */
function clientErrorCode(nodeCode: string | undefined): 'request_timeout' | 'headers_too_large' | 'validation_failed' {
  if (nodeCode === 'ERR_HTTP_REQUEST_TIMEOUT') return 'request_timeout';
  if (nodeCode === 'HPE_HEADER_OVERFLOW') return 'headers_too_large';
  return 'validation_failed';
}

/**
 * For Fastify's `clientErrorHandler`: a request the HTTP parser refused (headers over the limit, a
 * request that did not arrive in time, bytes that are not HTTP) gets a problem+json answer with a
 * catalogued code like every other refusal (Fastify's default writes a JSON body of its own shape).
 */
export function clientErrorHandler(this: FastifyInstance, error: Error & { code?: string }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code = clientErrorCode(error.code);
  const problem = problemOf(code, code === 'validation_failed' ? 'The request is not valid HTTP' : undefined);
  this.log.debug({ err: error, code: problem.code }, 'client error');
  if (!socket.writable) return void socket.destroy();
  const body = JSON.stringify(problem);
  const head = [
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? 'Error'}`,
    'Connection: close',
    `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}
