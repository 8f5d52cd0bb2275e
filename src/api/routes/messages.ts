// Messages of a conversation: send (idempotent by clientMsgId), edit, recall, and read history. History
// pages come from the hot, warm and cold tiers (src/tiers/tieredHistory.ts); the answer says which served.
import type { FastifyPluginAsync } from 'fastify';
import { Type } from '@sinclair/typebox';
import { requireMember } from '../membership.js';
import { timedSend } from '../metrics.js';
import { createHistoryReader, TIERS } from '../../tiers/tieredHistory.js';
import { identityOf, requestContext } from '../plugins/auth.js';
import type { RouteContext } from '../routeContext.js';
import { routeSchema } from '../routeSchema.js';
import { Closed, ConversationParams, JsonObject, Limit, MessageId, MessageKind, MessageParams, NoQuery, Nullable, Seq, Timestamp } from '../schemas/primitives.js';
import { TimelineItem } from '../schemas/resources.js';
import type { TypeBoxProvider } from '../validation.js';

export const HISTORY_PAGE = { default: 50, max: 200 };
const TAGS = ['messages'];

/** Response header naming the tiers that served a history page, e.g. `hot,warm`. */
export const TIERS_HEADER = 'x-missive-tiers';

const TierName = Type.Union(TIERS.map((t) => Type.Literal(t)));

const SentMessage = Type.Object({ messageId: MessageId, seq: Seq('The message seq'), sentAt: Timestamp('When it was stored') });

export const messageRoutes =
  ({ deps, metrics }: RouteContext): FastifyPluginAsync =>
  async (instance) => {
    const app = instance.withTypeProvider<TypeBoxProvider>();
    const { limits } = deps.config;
    const history = createHistoryReader({
      db: deps.pool,
      store: deps.store,
      hot: deps.hot,
      patchHorizonMs: Math.max(limits.editWindowMs, limits.recallWindowMs),
      onPage: (page) => {
        for (const tier of page.tiers) metrics.historyTierReads.inc({ tier });
        for (const tier of TIERS) if (page.counts[tier] > 0) metrics.historyTierItems.inc({ tier }, page.counts[tier]);
      },
      onHotError: (err) => deps.logger?.warn({ err, tier: 'hot' }, 'hot tier read failed: serving from warm and cold'),
    });

    app.post(
      '/conversations/:id/messages',
      {
        schema: routeSchema({
          summary: 'Send a message',
          description:
            'Idempotent by (you, clientMsgId): a retry answers 200 with exactly the body of the first 201 (same messageId, seq, sentAt) and stores nothing.',
          tags: TAGS,
          params: ConversationParams,
          querystring: NoQuery,
          body: Closed({
            clientMsgId: Type.String({ pattern: '^[\\x21-\\x7e]{1,64}$', description: 'Your idempotency key: 1 to 64 printable ASCII characters, no spaces' }),
            kind: MessageKind,
            body: JsonObject('The content: `{ "text": "..." }` for text; any JSON object for the other kinds'),
          }),
          response: { 200: SentMessage, 201: SentMessage },
        }),
      },
      async (request, reply) => {
        const ctx = requestContext(request);
        const { duplicate, ...sent } = await timedSend(metrics, () => deps.commands.sendMessage(ctx, request.params.id, request.body));
        return reply.code(duplicate ? 200 : 201).send(sent);
      },
    );

    app.get(
      '/conversations/:id/messages',
      {
        schema: routeSchema({
          summary: 'Read history, in ascending seq',
          description:
            'before=<seq>: the page just older than that seq (newest page without either); after=<seq>: the page just newer. Pass nextCursor back as the same parameter to go on; null means there is no more. ' +
            '`tiers` (and the X-Missive-Tiers header) lists the tiers that supplied the items, hottest first: hot (Redis or memory), warm (PostgreSQL), cold (the event log); `tier` is the coldest of them.',
          tags: TAGS,
          params: ConversationParams,
          querystring: Closed({ before: Type.Optional(Seq()), after: Type.Optional(Seq()), limit: Type.Optional(Limit(HISTORY_PAGE)) }),
          response: {
            200: Type.Object({
              items: Type.Array(TimelineItem),
              nextCursor: Nullable(Seq('Next value of the same before/after parameter')),
              tier: TierName,
              tiers: Type.Array(TierName, { minItems: 1, description: 'Tiers that supplied the items, hottest first (for an empty page: the tier that answered)' }),
            }),
          },
        }),
      },
      async (request, reply) => {
        const { before, after, limit = HISTORY_PAGE.default } = request.query;
        const conversationId = request.params.id;
        await requireMember(deps.pool, conversationId, identityOf(request).userId);
        const { items, tiers } = await history.read(conversationId, { before, after, limit });
        reply.header(TIERS_HEADER, tiers.join(','));
        return { items, nextCursor: nextHistoryCursor(items, limit, after !== undefined), tier: tiers.at(-1)!, tiers };
      },
    );

    app.patch(
      '/conversations/:id/messages/:messageId',
      {
        schema: routeSchema({
          summary: 'Edit one of your messages (within the edit window)',
          tags: TAGS,
          params: MessageParams,
          querystring: NoQuery,
          body: Closed({ body: JsonObject('The new content') }),
          response: { 200: Type.Object({ messageId: MessageId, seq: Seq('The seq of the edit itself'), editedAt: Timestamp('When') }) },
        }),
      },
      async (request) => {
        const { id, messageId } = request.params;
        const edited = await deps.commands.editMessage(requestContext(request), id, messageId, request.body.body);
        return { messageId, ...edited };
      },
    );

    app.delete(
      '/conversations/:id/messages/:messageId',
      {
        schema: routeSchema({
          summary: 'Recall a message (the sender, or a group owner/admin, within the recall window)',
          tags: TAGS,
          params: MessageParams,
          querystring: NoQuery,
          response: { 200: Type.Object({ messageId: MessageId, seq: Seq('The seq of the recall itself'), recalledAt: Timestamp('When') }) },
        }),
      },
      async (request) => {
        const { id, messageId } = request.params;
        const recalled = await deps.commands.recallMessage(requestContext(request), id, messageId);
        return { messageId, ...recalled };
      },
    );
  };

/** A full page may have more beyond it: older pages continue from the first seq, newer ones from the last. */
function nextHistoryCursor(items: ReadonlyArray<{ seq: number }>, limit: number, forwards: boolean): number | null {
  if (items.length < limit) return null;
  if (forwards) return items.at(-1)!.seq;
  const first = items[0]!.seq;
  return first > 1 ? first : null;
}
