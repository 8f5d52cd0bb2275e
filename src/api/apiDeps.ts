// What the REST API needs from the rest of Missive, and the tunables of the HTTP layer. Route modules
// receive these as a value: nothing in src/api opens a connection or reads the environment itself.
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { CommandService } from '../app/commandService.js';
import type { TokenService } from '../auth/tokens.js';
import type { Config } from '../config/config.js';
import type { EventStore } from '../store/eventStore.js';
import type { HotStore } from '../tiers/hotStore.js';

export interface ProjectionLag {
  name: string;
  lagEvents: number;
  lagSeconds: number;
}

export interface PresenceReader {
  get(userIds: string[]): Promise<Array<{ userId: string; online: boolean; lastSeen: string | null }>>;
}

export interface ApiDeps {
  config: Config;
  commands: CommandService;
  /** The read models' pool. */
  pool: pg.Pool;
  store: EventStore;
  tokens: TokenService;
  projections: { status(): Promise<ProjectionLag[]> };
  presence?: PresenceReader;
  /** The hot tier history reads try first (src/tiers); absent: history comes from warm and cold. */
  hot?: HotStore;
  logger?: Logger;
  /** The registry /metrics serves; pass the one the gateway registers its socket metrics in. */
  metricsRegistry?: Registry;
  options?: Partial<ApiOptions>;
}

export interface ApiOptions {
  /** Largest request body, bytes. */
  bodyLimit: number;
  /** Longest time to receive a whole request, ms (Node answers 408 past it). */
  requestTimeoutMs: number;
  /** Idle time before an open connection with no request is closed, ms. */
  connectionTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Requests per user (per IP when unauthenticated) per window. */
  rateLimitMax: number;
  rateLimitWindowMs: number;
  /** /readyz fails when a projection is further behind than this. */
  readyMaxLagEvents: number;
  readyMaxLagSeconds: number;
  /** How long /readyz waits for each dependency. */
  readyCheckTimeoutMs: number;
  /** Serve the OpenAPI document and the /docs page. */
  docs: boolean;
  /** Trust X-Forwarded-* (behind a proxy): the client IP keys the unauthenticated rate limit. */
  trustProxy: boolean;
}

export const DEFAULT_API_OPTIONS: ApiOptions = Object.freeze({
  bodyLimit: 64 * 1024,
  requestTimeoutMs: 30_000,
  connectionTimeoutMs: 60_000,
  keepAliveTimeoutMs: 65_000,
  rateLimitMax: 1_200,
  rateLimitWindowMs: 60_000,
  readyMaxLagEvents: 10_000,
  readyMaxLagSeconds: 30,
  readyCheckTimeoutMs: 2_000,
  docs: true,
  trustProxy: false,
});

export const resolveApiOptions = (overrides: Partial<ApiOptions> = {}): ApiOptions => ({ ...DEFAULT_API_OPTIONS, ...overrides });
