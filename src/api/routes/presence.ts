// Who is online, for a short list of users. Presence comes from the gateway (memory or Redis); a node
// that serves no presence answers 503 presence_unavailable rather than pretending everyone is away.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ApiError } from '../errors.js';
import type { RouteContext } from '../routeContext.js';
import { routeSchema } from '../routeSchema.js';
import { Closed, Nullable, Timestamp, USER_ID_PATTERN, UserId } from '../schemas/primitives.js';
import type { TypeBoxProvider } from '../validation.js';

export const MAX_PRESENCE_USERS = 100;
const USER_ID_LIST = `^${USER_ID_PATTERN.slice(1, -1)}(,${USER_ID_PATTERN.slice(1, -1)}){0,${MAX_PRESENCE_USERS - 1}}$`;

export const presenceRoutes =
  ({ deps }: RouteContext): FastifyPluginAsync =>
  async (instance) => {
    instance.withTypeProvider<TypeBoxProvider>().get(
      '/presence',
      {
        schema: routeSchema({
          summary: 'Online status and last-seen time of up to 100 users',
          tags: ['presence'],
          querystring: Closed({ userIds: Type.String({ pattern: USER_ID_LIST, description: `Comma-separated user ids (at most ${MAX_PRESENCE_USERS})` }) }),
          response: {
            200: Type.Object({
              items: Type.Array(
                Type.Object({ userId: UserId(), online: Type.Boolean(), lastSeen: Nullable(Timestamp('Last disconnect, or now while online; null if never seen')) }),
              ),
            }),
          },
        }),
      },
      async (request) => {
        if (!deps.presence) throw new ApiError('presence_unavailable');
        const userIds = [...new Set(request.query.userIds.split(','))];
        return { items: await deps.presence.get(userIds) };
      },
    );
  };
