// Pull the delta since a sync token (DESIGN.md §5): the inbox items, the session rows they touched and
// the unread total, with the next token. No token: the whole session list and a fresh token. A token
// from an older projection epoch answers 409 resync_required (see problem.ts for the recipe).
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import fastJson from 'fast-json-stringify';
import { getDelta } from '../../projections/index.js';
import { identityOf } from '../plugins/auth.js';
import type { RouteContext } from '../routeContext.js';
import { routeSchema } from '../routeSchema.js';
import { Closed, Limit } from '../schemas/primitives.js';
import { SyncDelta, SyncDeltaSerialization } from '../schemas/resources.js';
import { decodeSyncToken, encodeSyncToken, MAX_SYNC_TOKEN_LENGTH } from '../syncToken.js';
import type { TypeBoxProvider } from '../validation.js';

/** The same bounds as the WebSocket `sync` op (src/gateway/clientFrames.ts). */
export const SYNC_PAGE = { default: 100, max: 500 };

export const syncRoutes =
  ({ deps }: RouteContext): FastifyPluginAsync =>
  async (instance) => {
    const app = instance.withTypeProvider<TypeBoxProvider>();

    app.get(
      '/sync',
      {
        schema: routeSchema({
          summary: 'Pull what changed since your sync token',
          description:
            'Without `since`: your whole conversation list and a fresh token. With it: the items since, the rows they touched, the unread total. hasMore: pull again at once. 409 resync_required: start over without `since`.',
          tags: ['sync'],
          querystring: Closed({
            since: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_SYNC_TOKEN_LENGTH, description: 'nextToken of your last sync (opaque)' })),
            limit: Type.Optional(Limit(SYNC_PAGE)),
          }),
          response: { 200: SyncDelta },
        }),
        // The 200 answer is written from SyncDeltaSerialization (the same JSON without validating every
        // item against each branch of its unions); the other answers as Fastify's default compiler
        // would (fast-json-stringify; the app registers no shared schemas nor serializer options).
        serializerCompiler: ({ schema, httpStatus }) => fastJson(httpStatus === '200' ? SyncDeltaSerialization : (schema as object)),
      },
      async (request) => {
        const { since, limit = SYNC_PAGE.default } = request.query;
        const cursor = since === undefined ? null : decodeSyncToken(since);
        const { nextCursor, ...delta } = await getDelta(deps.pool, identityOf(request).userId, cursor, limit);
        return { ...delta, nextToken: encodeSyncToken(nextCursor) };
      },
    );
  };
