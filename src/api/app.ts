// Builds the REST API (DESIGN.md §7) as a Fastify instance, without listening: the server composes it
// with the WebSocket gateway on one HTTP server, and tests drive it with inject(). Everything it talks
// to arrives in ApiDeps; its HTTP limits (body size, timeouts, rate limit) come from ApiOptions.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { resolveApiOptions, type ApiDeps } from './apiDeps.js';
import { createApiMetrics, createMetricsRegistry, installRequestMetrics } from './metrics.js';
import { collectAllowedMethods } from './plugins/allowedMethods.js';
import { installAuth } from './plugins/auth.js';
import { clientErrorHandler, frameworkErrorHandler, installErrorHandling } from './plugins/errorHandling.js';
import { installOpenApi } from './plugins/openapi.js';
import { installRateLimit } from './plugins/rateLimit.js';
import type { RouteContext } from './routeContext.js';
import { adminRoutes } from './routes/admin.js';
import { conversationRoutes } from './routes/conversations.js';
import { devRoutes } from './routes/dev.js';
import { groupRoutes } from './routes/groups.js';
import { healthRoutes } from './routes/health.js';
import { messageRoutes } from './routes/messages.js';
import { presenceRoutes } from './routes/presence.js';
import { syncRoutes } from './routes/sync.js';
import { unreadRoutes } from './routes/unread.js';
import { typeBoxValidatorCompiler } from './validation.js';

export type { ApiDeps, ApiOptions } from './apiDeps.js';

export const API_PREFIX = '/v1';
export const API_VERSION = '1.0.0';
export const REQUEST_ID_HEADER = 'x-request-id';
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;
/**
 * Node's default (16 KiB) cannot carry the longest sync token the API accepts (`since`, 16 KiB) next to
 * the bearer token; past this the answer is 431 headers_too_large.
 */
export const MAX_HEADER_BYTES = 32 * 1024;

declare module 'fastify' {
  interface FastifyInstance {
    /** The registry /metrics serves: the gateway registers its socket metrics here. */
    metricsRegistry: Registry;
  }
}

/** A caller's X-Request-Id is kept when it is sane (it correlates logs across services), else a fresh one. */
function requestIdOf(raw: IncomingMessage): string {
  const given = raw.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
}

export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const options = resolveApiOptions(deps.options);
  // Typed with Fastify's base logger: pino's Logger type is wider than what route modules rely on.
  const app: FastifyInstance = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger as FastifyBaseLogger } : { logger: false }),
    bodyLimit: options.bodyLimit,
    requestTimeout: options.requestTimeoutMs,
    connectionTimeout: options.connectionTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    trustProxy: options.trustProxy,
    requestIdHeader: false,
    genReqId: requestIdOf,
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    // Unused while every schema goes through TypeBox, but never let a fallback strip unknown fields.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  });

  app.setValidatorCompiler(typeBoxValidatorCompiler);
  // JSON only: a text/plain body is refused (415) rather than parsed into a string.
  app.removeContentTypeParser('text/plain');
  installErrorHandling(app, collectAllowedMethods(app));
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
  });

  const registry = deps.metricsRegistry ?? createMetricsRegistry();
  app.decorate('metricsRegistry', registry);
  const metrics = createApiMetrics(registry, deps.projections);
  installRequestMetrics(app, metrics);
  if (options.docs) await installOpenApi(app, API_VERSION);

  const ctx: RouteContext = { deps, options, metrics };
  await app.register(healthRoutes(ctx));
  await app.register(
    async (v1) => {
      installAuth(v1, deps.tokens);
      await installRateLimit(v1, { max: options.rateLimitMax, windowMs: options.rateLimitWindowMs, redisUrl: deps.config.redisUrl });
      for (const routes of [conversationRoutes, messageRoutes, groupRoutes, syncRoutes, unreadRoutes, presenceRoutes, adminRoutes]) {
        await v1.register(routes(ctx));
      }
      // Off: not registered at all, so the route answers 404 like any unknown one.
      if (deps.config.devAuth) await v1.register(devRoutes(ctx));
    },
    { prefix: API_PREFIX },
  );
  return app;
}
