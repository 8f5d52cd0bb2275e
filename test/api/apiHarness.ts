// The API wired to real collaborators for integration tests: a fresh PostgreSQL database, the
// PostgreSQL event store, the real command handler, the projection runner (not started: `settle()`
// catches every projection up between steps) and an HS256 token service. Requests go through inject().
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { SignJWT } from 'jose';
import type { Logger } from 'pino';
import { buildApp, type ApiOptions } from '../../src/api/app.js';
import type { PresenceReader } from '../../src/api/apiDeps.js';
import { createCommandHandler } from '../../src/app/commandHandler.js';
import { createTokenService, type TokenService } from '../../src/auth/tokens.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { DEFAULT_LIMITS } from '../../src/domain/limits.js';
import { createProjectionRunner, ensureProjectionSchemas, type ProjectionRunner } from '../../src/projections/index.js';
import type { EventStore } from '../../src/store/eventStore.js';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import type { HotStore } from '../../src/tiers/hotStore.js';

export const JWT = { secret: 'api-test-secret-0123456789abcdef', issuer: 'missive-test', audience: 'missive-api' };

export interface HarnessOptions {
  devAuth?: boolean;
  options?: Partial<ApiOptions>;
  presence?: PresenceReader;
  /** Replace the event store the commands and /readyz use (e.g. one whose database is unreachable). */
  store?: EventStore;
  logger?: Logger;
  /** A hot tier for history reads (src/tiers); the test drives its projection itself. */
  hot?: HotStore;
}

export interface RequestSpec {
  as?: string;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ApiHarness {
  app: FastifyInstance;
  db: TestDatabase;
  store: EventStore;
  runner: ProjectionRunner;
  tokens: TokenService;
  config: Config;
  tokenFor(userId: string, options?: { admin?: boolean }): Promise<string>;
  /** A request as a user (`as`), with an explicit token, or anonymous. */
  request(method: InjectOptions['method'], url: string, spec?: RequestSpec): Promise<LightMyRequestResponse>;
  /** Catches every projection up to the log's head. */
  settle(): Promise<void>;
  /**
   * The store's head once every transaction committed so far is visible: the head stops below any open
   * transaction in the cluster (DESIGN.md §10), and other test files append concurrently.
   */
  settledHead(): Promise<bigint>;
  close(): Promise<void>;
}

export async function createApiHarness(options: HarnessOptions = {}): Promise<ApiHarness> {
  const db = await createTestDatabase();
  const pgStore = createPostgresEventStore({ pool: db.pool, notify: false });
  const store = options.store ?? pgStore;
  const config = loadConfig({
    MISSIVE_DEV_AUTH: options.devAuth ? 'true' : 'false',
    MISSIVE_JWT_SECRET: JWT.secret,
    MISSIVE_JWT_ISSUER: JWT.issuer,
    MISSIVE_JWT_AUDIENCE: JWT.audience,
    DATABASE_URL: db.url,
  });
  const tokens = createTokenService(JWT);
  const commands = createCommandHandler({ store, limits: DEFAULT_LIMITS });
  await ensureProjectionSchemas(db.pool);
  const runner = createProjectionRunner({ pool: db.pool, store: pgStore, fanoutLimit: config.fanoutLimit, pollIntervalMs: 50 });
  const app = await buildApp({ config, commands, pool: db.pool, store, tokens, projections: runner, presence: options.presence, options: options.options, logger: options.logger, hot: options.hot });
  const tokenCache = new Map<string, string>();

  async function tokenFor(userId: string, tokenOptions: { admin?: boolean } = {}): Promise<string> {
    const key = `${userId}:${tokenOptions.admin === true}`;
    if (!tokenCache.has(key)) tokenCache.set(key, await tokens.issue(userId, tokenOptions));
    return tokenCache.get(key)!;
  }

  return {
    app,
    db,
    store,
    runner,
    tokens,
    config,
    tokenFor,
    async request(method, url, spec = {}) {
      const token = spec.token ?? (spec.as ? await tokenFor(spec.as) : undefined);
      const headers: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...spec.headers };
      return app.inject({ method, url, headers, ...(spec.body === undefined ? {} : { payload: spec.body as object }) });
    },
    settle: () => runner.catchUp(),
    async settledHead() {
      await runner.catchUp();
      return store.headPosition();
    },
    async close() {
      await app.close();
      await runner.stop();
      await pgStore.close();
      if (store !== pgStore) await store.close();
      await db.drop();
    },
  };
}

/** A token signed with the right secret but whatever claims the test needs (expired, wrong issuer...). */
export function signToken(claims: { sub?: string; iss?: string; aud?: string; exp?: number; admin?: boolean }, secret = JWT.secret): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(claims.admin ? { admin: true } : {})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(claims.iss ?? JWT.issuer)
    .setAudience(claims.aud ?? JWT.audience)
    .setIssuedAt(now - 120)
    .setExpirationTime(claims.exp ?? now + 600);
  if (claims.sub !== undefined) jwt.setSubject(claims.sub);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** The body of a problem+json answer, checked to be one. */
export function problemOf(response: LightMyRequestResponse): { type: string; title: string; status: number; code: string; detail: string } & Record<string, unknown> {
  if (!String(response.headers['content-type']).startsWith('application/problem+json')) {
    throw new Error(`expected application/problem+json, got ${String(response.headers['content-type'])}: ${response.body}`);
  }
  return response.json();
}
