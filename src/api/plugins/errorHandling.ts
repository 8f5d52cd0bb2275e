// Every failure leaves as application/problem+json with a catalogued code: route errors, validation,
// body parsing and size, unknown routes, and the framework's own early refusals (bad URLs). Unexpected
// errors are logged with their stack on our side only.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { answerForError, problemOf, PROBLEM_CONTENT_TYPE, type Problem } from '../problem.js';

export function sendProblem(reply: FastifyReply, problem: Problem, headers: Record<string, string> = {}): FastifyReply {
  return reply.code(problem.status).headers(headers).type(PROBLEM_CONTENT_TYPE).send(problem);
}

export function replyWithError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { problem, headers, unexpected } = answerForError(error);
  if (unexpected) request.log.error({ err: error, code: problem.code }, 'request failed');
  else request.log.info({ code: problem.code, status: problem.status }, 'request refused');
  return sendProblem(reply, problem, headers);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => replyWithError(error, request, reply));
  app.setNotFoundHandler((request, reply) => sendProblem(reply, problemOf('not_found', `No route ${request.method} ${request.url.split('?')[0]}`)));
}

/** For Fastify's `frameworkErrors` option: errors raised before routing (e.g. a malformed URL). */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  replyWithError(error, request, reply);
}
