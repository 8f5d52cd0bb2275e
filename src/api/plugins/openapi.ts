// The OpenAPI 3 document, generated from the route schemas (nothing is written twice), served at
// /openapi.json, with a browsable docs page at /docs. Bearer JWT security is declared once here.
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { BEARER_SECURITY } from '../routeSchema.js';

export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PATH = '/docs';

/** Must run before the routes are declared: the generator collects them as they are added. */
export async function installOpenApi(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Missive API',
        version,
        description:
          'Event-sourced message store for instant messaging. Errors are application/problem+json with a stable `code` (docs/api.md). Authenticate with `Authorization: Bearer <JWT>`.',
      },
      components: { securitySchemes: { [BEARER_SECURITY]: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      tags: [
        { name: 'conversations', description: 'Your conversation list, read marks, settings, unread' },
        { name: 'messages', description: 'Send, edit, recall, history' },
        { name: 'groups', description: 'Group membership and roles' },
        { name: 'sync', description: 'Push-pull sync (the WebSocket at /v1/ws pushes hints)' },
        { name: 'presence', description: 'Online status' },
        { name: 'health', description: 'Liveness, readiness, metrics' },
        { name: 'admin', description: 'Operators (admin token)' },
        { name: 'dev', description: 'Development login' },
      ],
    },
  });
  await app.register(swaggerUi, {
    routePrefix: DOCS_PATH,
    staticCSP: true,
    // The embedded mode serves plain HTTP on localhost: upgrading the page's scripts to https would break it.
    transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, ''),
    uiConfig: { deepLinking: true },
  });
  app.get(OPENAPI_PATH, { config: { auth: 'public' }, schema: { hide: true } }, async () => app.swagger());
}
