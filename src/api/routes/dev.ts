// The development login (DESIGN.md §7): any user id gets a token signed with the configured secret.
// It exists only when config.devAuth is on; otherwise the route is not registered at all (404).
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import { DEFAULT_TOKEN_TTL_SECONDS, MAX_TOKEN_TTL_SECONDS } from '../../auth/tokens.js';
import type { RouteContext } from '../routeContext.js';
import { routeSchema } from '../routeSchema.js';
import { Closed, NoQuery, UserId } from '../schemas/primitives.js';
import type { TypeBoxProvider } from '../validation.js';

export const devRoutes =
  ({ deps }: RouteContext): FastifyPluginAsync =>
  async (instance) => {
    instance.withTypeProvider<TypeBoxProvider>().post(
      '/dev/token',
      {
        config: { auth: 'public' },
        schema: routeSchema({
          summary: 'Development login: a token for any user id (only when MISSIVE_DEV_AUTH is on)',
          tags: ['dev'],
          public: true,
          querystring: NoQuery,
          body: Closed({
            userId: UserId(),
            admin: Type.Optional(Type.Boolean({ description: 'Also grant the admin claim' })),
            ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TOKEN_TTL_SECONDS, default: DEFAULT_TOKEN_TTL_SECONDS })),
          }),
          response: { 200: Type.Object({ token: Type.String(), tokenType: Type.Literal('Bearer'), expiresIn: Type.Integer() }) },
        }),
      },
      async (request) => {
        const { userId, admin, ttlSeconds = DEFAULT_TOKEN_TTL_SECONDS } = request.body;
        const token = await deps.tokens.issue(userId, { admin: admin === true, ttlSeconds });
        return { token, tokenType: 'Bearer' as const, expiresIn: ttlSeconds };
      },
    );
  };
