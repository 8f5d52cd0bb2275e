// The real collaborators of the gateway for its integration tests: the token service (HS256 secret),
// the PostgreSQL event store in a fresh test database, the command handler on top of it, and the
// projection runner (not started) whose committed batches a test may turn into hints, and the REST app
// built on the same collaborators (to compare the two paths and share one server).
import { SignJWT } from 'jose';
import { createTokenService, type TokenService } from '../../src/auth/tokens.js';
import { createCommandHandler } from '../../src/app/commandHandler.js';
import type { CommandService } from '../../src/app/commandService.js';
import { DEFAULT_LIMITS } from '../../src/domain/limits.js';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';
import type { EventStore } from '../../src/store/eventStore.js';
import { createProjectionRunner, type ProjectionRunner } from '../../src/projections/index.js';
import type { RecordedEvent } from '../../src/store/eventStore.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import type pg from 'pg';
import { buildApp } from '../../src/api/app.js';
import { loadConfig } from '../../src/config/config.js';
import type { AppFactory } from './gatewayHarness.js';

const JWT = { secret: 'gateway-test-secret-0123456789', issuer: 'missive', audience: 'missive' };

export interface GatewayFixture {
  deps: { tokens: TokenService; commands: CommandService; pool: pg.Pool };
  db: TestDatabase;
  store: EventStore;
  runner: ProjectionRunner;
  /** Called after each batch the runner commits (set it to feed the gateway's hints). */
  onApplied: ((projection: string, events: readonly RecordedEvent[]) => Promise<void>) | null;
  issue(userId: string, options?: { ttlSeconds?: number }): Promise<string>;
  /** Builds the REST API on these collaborators, with the gateway's presence and metrics registry. */
  buildApi: AppFactory;
  /** A correctly signed token whose expiry lies in the past. */
  issueExpired(userId: string): Promise<string>;
  close(): Promise<void>;
}

export async function createGatewayFixture(): Promise<GatewayFixture> {
  const db = await createTestDatabase();
  const store = createPostgresEventStore({ pool: db.pool });
  const tokens = createTokenService(JWT);
  const commands = createCommandHandler({ store, limits: DEFAULT_LIMITS });
  const fixture: GatewayFixture = {
    deps: { tokens, commands, pool: db.pool },
    db,
    store,
    runner: createProjectionRunner({
      pool: db.pool,
      store,
      fanoutLimit: 500,
      pollIntervalMs: 50,
      onApplied: (projection, events) => fixture.onApplied?.(projection, events),
    }),
    onApplied: null,
    buildApi: (gateway, registry) =>
      buildApp({
        config: loadConfig({ MISSIVE_DEV_AUTH: 'false', MISSIVE_JWT_SECRET: JWT.secret, DATABASE_URL: db.url }),
        commands,
        pool: db.pool,
        store,
        tokens,
        projections: fixture.runner,
        presence: gateway.presence,
        metricsRegistry: registry,
        options: { docs: false },
      }),
    issue: (userId, options) => tokens.issue(userId, options),
    issueExpired: (userId) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(JWT.issuer)
        .setAudience(JWT.audience)
        .setIssuedAt(Math.floor(Date.now() / 1000) - 120)
        .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
        .sign(new TextEncoder().encode(JWT.secret)),
    async close() {
      await fixture.runner.stop();
      await store.close();
      await db.drop();
    },
  };
  return fixture;
}
