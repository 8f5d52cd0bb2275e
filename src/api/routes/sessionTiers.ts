// What the conversation list and unread routes share: one hot-then-warm sessions reader per route
// module, counted per view and tier, and the answer's `tiers` field and X-Missive-Tiers header (the
// same convention as history pages).
import type { FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { createSessionsReader, type SessionsReader, type SessionTier } from '../../tiers/tieredSessions.js';
import type { RouteContext } from '../routeContext.js';
import { TIERS_HEADER } from './messages.js';

export const SessionTiers = Type.Array(Type.Union([Type.Literal('hot'), Type.Literal('warm')]), {
  minItems: 1,
  maxItems: 1,
  description: 'The tier that served the answer: hot (Redis or memory) or warm (PostgreSQL)',
});

export const sessionsReaderOf = ({ deps, metrics }: RouteContext): SessionsReader =>
  createSessionsReader({
    db: deps.pool,
    hot: deps.hot,
    onRead: (view, tier) => metrics.sessionTierReads.inc({ view, tier }),
    onHotError: (err) => deps.logger?.warn({ err, tier: 'hot' }, 'hot tier session read failed: serving from warm'),
  });

/** The answer without its internal tier, with `tiers` and the header. */
export function servedBy<T extends { tier: SessionTier }>(reply: FastifyReply, answer: T): Omit<T, 'tier'> & { tiers: SessionTier[] } {
  const { tier, ...rest } = answer;
  reply.header(TIERS_HEADER, tier);
  return { ...rest, tiers: [tier] };
}
