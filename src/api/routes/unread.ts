// Unread counts: per conversation you belong to, and their total (always the sum of the list). Served
// by the hot tier when it is ready and knows every counter, else by warm (src/tiers/tieredSessions.ts).
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import { identityOf } from '../plugins/auth.js';
import type { RouteContext } from '../routeContext.js';
import { routeSchema } from '../routeSchema.js';
import { NoQuery } from '../schemas/primitives.js';
import { UnreadSummary } from '../schemas/resources.js';
import type { TypeBoxProvider } from '../validation.js';
import { sessionsReaderOf, SessionTiers, servedBy } from './sessionTiers.js';

export const unreadRoutes =
  (context: RouteContext): FastifyPluginAsync =>
  async (instance) => {
    const sessions = sessionsReaderOf(context);
    instance.withTypeProvider<TypeBoxProvider>().get(
      '/unread',
      {
        schema: routeSchema({
          summary: 'Your unread counts',
          description: '`tiers` (and the X-Missive-Tiers header) says which tier served: hot (Redis or memory) or warm (PostgreSQL).',
          tags: ['conversations'],
          querystring: NoQuery,
          response: { 200: Type.Object({ ...UnreadSummary.properties, tiers: SessionTiers }) },
        }),
      },
      async (request, reply) => servedBy(reply, await sessions.unread(identityOf(request).userId)),
    );
  };
