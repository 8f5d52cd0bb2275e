// Unread counts: per conversation you belong to, and their total (always the sum of the list).
import type { FastifyPluginAsync } from 'fastify';
import { getUnread } from '../../projections/index.js';
import { identityOf } from '../plugins/auth.js';
import type { RouteContext } from '../routeContext.js';
import { routeSchema } from '../routeSchema.js';
import { NoQuery } from '../schemas/primitives.js';
import { UnreadSummary } from '../schemas/resources.js';
import type { TypeBoxProvider } from '../validation.js';

export const unreadRoutes =
  ({ deps }: RouteContext): FastifyPluginAsync =>
  async (instance) => {
    instance.withTypeProvider<TypeBoxProvider>().get(
      '/unread',
      { schema: routeSchema({ summary: 'Your unread counts', tags: ['conversations'], querystring: NoQuery, response: { 200: UnreadSummary } }) },
      async (request) => getUnread(deps.pool, identityOf(request).userId),
    );
  };
