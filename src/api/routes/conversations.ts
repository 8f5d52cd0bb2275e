// Conversations as a user sees them: open a direct conversation, list yours, move your read mark and
// change your per-conversation settings (mute, pin, hide).
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import { identityOf, requestContext } from '../plugins/auth.js';
import type { RouteContext } from '../routeContext.js';
import { routeSchema } from '../routeSchema.js';
import { Closed, ConversationId, ConversationParams, Limit, NoQuery, Nullable, Seq, UserId } from '../schemas/primitives.js';
import { SessionRow } from '../schemas/resources.js';
import type { TypeBoxProvider } from '../validation.js';
import { sessionsReaderOf, SessionTiers, servedBy } from './sessionTiers.js';

export const CONVERSATION_PAGE = { default: 50, max: 200 };
const TAGS = ['conversations'];

const DirectConversation = Type.Object({
  conversationId: ConversationId,
  kind: Type.Literal('direct'),
  peerId: UserId('The other member'),
  created: Type.Boolean({ description: 'false when it already existed (answered 200)' }),
});

export const conversationRoutes =
  (context: RouteContext): FastifyPluginAsync =>
  async (instance) => {
    const { deps } = context;
    const app = instance.withTypeProvider<TypeBoxProvider>();
    const sessions = sessionsReaderOf(context);

    app.post(
      '/conversations/direct',
      {
        schema: routeSchema({
          summary: 'Open (or find) the direct conversation with a peer',
          description: "The id is derived from the two user ids, so both sides always get the same conversation. 201 when it was created, 200 when it existed.",
          tags: TAGS,
          querystring: NoQuery,
          body: Closed({ peerId: UserId('The other user') }),
          response: { 200: DirectConversation, 201: DirectConversation },
        }),
      },
      async (request, reply) => {
        const { peerId } = request.body;
        const { conversationId, created } = await deps.commands.openDirect(requestContext(request), peerId);
        return reply.code(created ? 201 : 200).send({ conversationId, kind: 'direct' as const, peerId, created });
      },
    );

    app.get(
      '/conversations',
      {
        schema: routeSchema({
          summary: 'Your conversation list, most recent activity first',
          description:
            'The first page (no cursor) comes from the hot tier when it is ready and knows every row of the page, else from warm (PostgreSQL); later pages from warm. `tiers` and the X-Missive-Tiers header say which served.',
          tags: TAGS,
          querystring: Closed({
            limit: Type.Optional(Limit(CONVERSATION_PAGE)),
            cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, description: 'nextCursor of the previous page' })),
          }),
          response: { 200: Type.Object({ items: Type.Array(SessionRow), nextCursor: Nullable(Type.String()), tiers: SessionTiers }) },
        }),
      },
      async (request, reply) => {
        const { limit = CONVERSATION_PAGE.default, cursor } = request.query;
        return servedBy(reply, await sessions.list(identityOf(request).userId, { limit, cursor: cursor ?? null }));
      },
    );

    app.post(
      '/conversations/:id/read',
      {
        schema: routeSchema({
          summary: 'Move your read mark forward',
          description: 'A mark at or below your current one changes nothing; one past the last seq is clamped. Answers the mark in force.',
          tags: TAGS,
          params: ConversationParams,
          querystring: NoQuery,
          body: Closed({ seq: Seq('Everything up to this seq is read') }),
          response: { 200: Type.Object({ seq: Seq('Your read mark now') }) },
        }),
      },
      async (request) => deps.commands.markRead(requestContext(request), request.params.id, request.body.seq),
    );

    app.patch(
      '/conversations/:id/settings',
      {
        schema: routeSchema({
          summary: 'Change your settings of a conversation (mute, pin, hide)',
          tags: TAGS,
          params: ConversationParams,
          querystring: NoQuery,
          body: Type.Object(
            { muted: Type.Optional(Type.Boolean()), pinned: Type.Optional(Type.Boolean()), hidden: Type.Optional(Type.Boolean()) },
            { additionalProperties: false, minProperties: 1 },
          ),
          response: { 204: Type.Null({ description: 'Applied (or already so)' }) },
        }),
      },
      async (request, reply) => {
        await deps.commands.changeSettings(requestContext(request), request.params.id, request.body);
        return reply.code(204).send(null);
      },
    );
  };
