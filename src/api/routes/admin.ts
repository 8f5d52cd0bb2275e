// Operator routes; every one needs a token with the admin claim.
import type { FastifyPluginAsync } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import type { RouteContext } from '../routeContext.js';
import { routeSchema } from '../routeSchema.js';
import { NoQuery } from '../schemas/primitives.js';
import type { TypeBoxProvider } from '../validation.js';

const ProjectionStatus = Type.Object({
  name: Type.String(),
  lagEvents: Type.Number({ minimum: 0 }),
  lagSeconds: Type.Number({ minimum: 0 }),
  version: Type.Optional(Type.Integer()),
  epoch: Type.Optional(Type.Integer()),
  checkpoint: Type.Optional(Type.String({ description: 'Global position (a decimal string: positions are 64-bit)' })),
  headPosition: Type.Optional(Type.String({ description: 'Global position (a decimal string)' })),
  state: Type.Optional(Type.String()),
  needsRebuild: Type.Optional(Type.Boolean()),
});

/** Positions are bigints, which JSON cannot carry: they leave as decimal strings. */
const jsonSafe = (status: object): Record<string, unknown> =>
  Object.fromEntries(Object.entries(status).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v]));

export const adminRoutes =
  ({ deps }: RouteContext): FastifyPluginAsync =>
  async (instance) => {
    instance.withTypeProvider<TypeBoxProvider>().get(
      '/admin/projections',
      {
        config: { auth: 'admin' },
        schema: routeSchema({
          summary: 'Projection status: checkpoints, lag, state (admin token)',
          tags: ['admin'],
          querystring: NoQuery,
          response: { 200: Type.Object({ items: Type.Array(ProjectionStatus) }) },
        }),
      },
      async () => ({ items: (await deps.projections.status()).map(jsonSafe) as Array<Static<typeof ProjectionStatus>> }),
    );
  };
