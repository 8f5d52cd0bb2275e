// Liveness, readiness and metrics for operators and orchestrators, outside /v1 and without auth.
// /healthz: the process answers. /readyz: the event store answers and projections are not far behind,
// so a load balancer stops routing to a node whose reads would be stale. /metrics: Prometheus text.
import type { FastifyPluginAsync } from 'fastify';
import { Type, type TSchema } from '@sinclair/typebox';
import type { RouteContext } from '../routeContext.js';
import { routeSchema } from '../routeSchema.js';
import { NoQuery } from '../schemas/primitives.js';
import type { TypeBoxProvider } from '../validation.js';

const Check = Type.Object({ ok: Type.Boolean(), detail: Type.String() });
const Readiness = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  checks: Type.Object({ eventStore: Check, projections: Check }),
});
type CheckResult = { ok: boolean; detail: string };

const HEALTH = { tags: ['health'], public: true as const, querystring: NoQuery };

async function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes =
  ({ deps, options, metrics }: RouteContext): FastifyPluginAsync =>
  async (instance) => {
    const app = instance.withTypeProvider<TypeBoxProvider>();
    const publicRoute = { auth: 'public' as const };

    async function checkEventStore(): Promise<CheckResult> {
      try {
        const head = await withTimeout(deps.store.headPosition(), options.readyCheckTimeoutMs, 'The event store');
        return { ok: true, detail: `head position ${head}` };
      } catch (error) {
        return { ok: false, detail: (error as Error).message.split('\n')[0] ?? 'unavailable' };
      }
    }

    async function checkProjections(): Promise<CheckResult> {
      try {
        const statuses = await withTimeout(deps.projections.status(), options.readyCheckTimeoutMs, 'The projection status');
        const behind = statuses.filter((s) => s.lagEvents > options.readyMaxLagEvents || s.lagSeconds > options.readyMaxLagSeconds);
        if (behind.length === 0) return { ok: true, detail: `${statuses.length} projections within lag limits` };
        return { ok: false, detail: `behind: ${behind.map((s) => `${s.name} (${s.lagEvents} events, ${s.lagSeconds.toFixed(1)} s)`).join(', ')}` };
      } catch (error) {
        return { ok: false, detail: (error as Error).message.split('\n')[0] ?? 'unavailable' };
      }
    }

    app.get(
      '/healthz',
      { config: publicRoute, schema: routeSchema({ ...HEALTH, summary: 'Liveness: the process answers', response: { 200: Type.Object({ status: Type.Literal('ok') }) } }) },
      async () => ({ status: 'ok' as const }),
    );

    app.get(
      '/readyz',
      {
        config: publicRoute,
        schema: routeSchema({ ...HEALTH, summary: 'Readiness: event store reachable, projections within lag limits', response: { 200: Readiness, 503: Readiness } }),
      },
      async (_request, reply) => {
        const [eventStore, projections] = await Promise.all([checkEventStore(), checkProjections()]);
        const ready = eventStore.ok && projections.ok;
        return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks: { eventStore, projections } });
      },
    );

    app.get(
      '/metrics',
      {
        config: publicRoute,
        schema: routeSchema({
          ...HEALTH,
          summary: 'Prometheus metrics',
          // Declared as text/plain (the exposition format), not JSON, so OpenAPI tells clients what comes.
          response: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: Type.String() } } } as unknown as TSchema },
        }),
      },
      async (_request, reply) => {
        const text = await metrics.registry.metrics();
        return reply.type(metrics.registry.contentType).send(text);
      },
    );
  };
