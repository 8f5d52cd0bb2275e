// The Prometheus metrics of the API, in a registry the caller may share (the gateway adds its socket
// metrics to the same one, and /metrics serves them all): request durations by route and status, send
// latency, and projection lag read from the runner at scrape time.
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ProjectionLag } from './apiDeps.js';

export interface ApiMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  sendLatency: Histogram<'outcome'>;
  /** History pages each tier contributed to (a page straddling tiers counts once in each). */
  historyTierReads: Counter<'tier'>;
  /** History items served, by the tier that served them. */
  historyTierItems: Counter<'tier'>;
  /** Session reads (the list head, unread) by the tier that served them. */
  sessionTierReads: Counter<'view' | 'tier'>;
}

const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'missive_' });
  return registry;
}

export function createApiMetrics(registry: Registry, projections: { status(): Promise<ProjectionLag[]> }): ApiMetrics {
  const registers = [registry];
  // Both lag gauges are collected in the same scrape: they share one status read.
  let inflight: Promise<ProjectionLag[]> | null = null;
  const readStatus = () => (inflight ??= projections.status().catch(() => []).finally(() => (inflight = null)));
  const lagGauge = (name: string, help: string, pick: (s: ProjectionLag) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['projection'],
      registers,
      async collect() {
        for (const s of await readStatus()) this.set({ projection: s.name }, pick(s));
      },
    });
  lagGauge('missive_projection_lag_events', 'Events not yet applied, per projection', (s) => s.lagEvents);
  lagGauge('missive_projection_lag_seconds', 'Age of the oldest event not yet applied, per projection', (s) => s.lagSeconds);
  return {
    registry,
    httpDuration: new Histogram({
      name: 'missive_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern and status',
      labelNames: ['method', 'route', 'status_code'],
      buckets: HTTP_BUCKETS,
      registers,
    }),
    sendLatency: new Histogram({
      name: 'missive_send_latency_seconds',
      help: 'Time to accept a message send (decide + append), by outcome',
      labelNames: ['outcome'],
      buckets: HTTP_BUCKETS,
      registers,
    }),
    historyTierReads: new Counter({
      name: 'missive_history_tier_reads_total',
      help: 'History pages that each tier (hot, warm, cold) contributed items to',
      labelNames: ['tier'],
      registers,
    }),
    historyTierItems: new Counter({
      name: 'missive_history_tier_items_total',
      help: 'History items served, by tier (hot, warm, cold)',
      labelNames: ['tier'],
      registers,
    }),
    sessionTierReads: new Counter({
      name: 'missive_session_tier_reads_total',
      help: 'Conversation list and unread reads, by view (sessions, unread) and the tier that served them (hot, warm)',
      labelNames: ['view', 'tier'],
      registers,
    }),
  };
}

/** Times every request by its route pattern (never the raw URL: ids would explode the label set). */
export function installRequestMetrics(app: FastifyInstance, metrics: ApiMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}

/** Runs a send and records its latency. */
export async function timedSend<T>(metrics: ApiMetrics, send: () => Promise<T>): Promise<T> {
  const end = metrics.sendLatency.startTimer();
  try {
    const result = await send();
    end({ outcome: 'accepted' });
    return result;
  } catch (error) {
    end({ outcome: 'refused' });
    throw error;
  }
}
