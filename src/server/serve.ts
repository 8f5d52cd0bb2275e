// Composes one Missive process from the configuration: database (embedded or DATABASE_URL), event
// store, projection runner, command handler, REST API and WebSocket gateway, and wires the projection
// runner's committed batches to the gateway's sync hints. Roles decide which parts run here.
import { pino, type Logger } from 'pino';
import type { Config } from '../config/config.js';
import { ConfigError } from '../config/config.js';
import { openDatabase, openPool } from '../db/connect.js';
import { migrate } from '../db/migrate.js';
import { createPostgresEventStore } from '../store/postgres/postgresEventStore.js';
import { createEventStoreDbEventStore } from '../store/eventstoredb/esdbEventStore.js';
import type { EventStore, RecordedEvent } from '../store/eventStore.js';
import { createProjectionRunner, ensureProjectionSchemas, readCheckpoints, SYNC_PROJECTIONS } from '../projections/index.js';
import { createCommandHandler } from '../app/commandHandler.js';
import { domainLimits } from '../domain/limits.js';
import { createTokenService } from '../auth/tokens.js';
import { buildApp } from '../api/app.js';
import { createMetricsRegistry } from '../api/metrics.js';
import { createGateway } from '../gateway/gateway.js';
import { hintTargetsOf, resolveHintTargets } from './hintFeed.js';
import { createHintPublisher } from './hintPublisher.js';
import { loadOrCreateDevSecret } from './devSecret.js';
import { createSyncHintGate } from './syncHintGate.js';
import { createSharedHintGate } from './sharedHintGate.js';
import { openHotStore } from '../tiers/openHotStore.js';
import { createHotProjection } from '../tiers/hotProjection.js';
import { scheduleTierJob } from '../tiers/tierJob.js';
import { registerHotMetrics } from '../tiers/hotMetrics.js';
import { connectKafkaBus, startGroupProjectorRole, startRelayRole } from './busRoles.js';
import { openGatewayCluster } from './gatewayCluster.js';
import { createFailpoints, stallAt } from '../failpoints/failpoints.js';

export interface RunningServer {
  /** The base URL the HTTP server listens on (when the api or gateway role runs here). */
  url: string | undefined;
  close(): Promise<void>;
}

export async function startServer(config: Config, options: { logger?: Logger } = {}): Promise<RunningServer> {
  const logger = options.logger ?? pino({ level: config.logLevel });
  const has = (role: Config['roles'][number]) => config.roles.includes(role);
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const fn of closers.reverse()) await fn().catch((err) => logger.error({ err }, 'error while closing'));
  };
  try {
    const db = await openDatabase(config, { poolSize: 16, onLog: (line) => logger.debug({ component: 'postgres' }, line) });
    closers.push(() => db.close());
    await migrate(db.url);
    logger.info({ database: db.source }, 'database ready');

    const store: EventStore = config.eventStoreUrl
      ? createEventStoreDbEventStore({ connectionString: config.eventStoreUrl })
      : createPostgresEventStore({ pool: db.pool });
    closers.push(() => store.close());

    await ensureProjectionSchemas(db.pool);
    const metricsRegistry = createMetricsRegistry();
    const tokens = createTokenService({ ...config.jwt, secret: jwtSecret(config) });
    const failpoints = createFailpoints(config.failpoints);
    if (failpoints.armed) logger.warn({ failpoints: config.failpoints }, 'FAILPOINTS ARMED: this process will crash, fail or stall on purpose (fault tests only)');
    const commands = createCommandHandler({ store, limits: domainLimits(config.limits), failpoints });

    // Presence, socket routes and hint delivery: Redis when REDIS_URL is set (several nodes), else memory.
    const cluster = await openGatewayCluster({ redisUrl: config.redisUrl, nodeId: config.nodeId, ttlMs: config.presenceTtlMs, keyPrefix: config.redisKeyPrefix, logger });
    closers.push(() => cluster.close());
    const gateway = has('gateway')
      ? createGateway({
          tokens,
          commands,
          pool: db.pool,
          allowedOrigins: config.wsAllowedOrigins,
          nodeId: config.nodeId,
          presence: cluster.presence,
          presenceHeartbeatMs: cluster.heartbeatMs,
          metrics: metricsRegistry,
          logger,
        })
      : undefined;
    if (gateway) await cluster.receiveHints(gateway);

    const hintGate = createSyncHintGate(SYNC_PROJECTIONS);
    // Routed to the nodes holding the users' sockets: this one, or others through Redis.
    const hints = gateway || cluster.shared
      ? createHintPublisher(
          async (targets) => {
            await stallAt(failpoints, 'publish-stall');
            await cluster.hintUsers(await resolveHintTargets(db.pool, targets));
          },
          (err) => logger.error({ err }, 'publishing sync hints failed'),
        )
      : undefined;
    // The projector has its own connections: queued behind request traffic it would fall ever further behind.
    const projectorPool = openPool(db.url, 4);
    closers.push(() => projectorPool.end());
    // Its PostgreSQL store reads through those connections too, woken by the appends' NOTIFY.
    const projectorStore = config.eventStoreUrl ? store : createPostgresEventStore({ pool: projectorPool });
    if (projectorStore !== store) closers.push(() => projectorStore.close());
    // Closers run in reverse: the last hints go out after the projector stopped, before the pools close.
    if (hints) closers.push(() => hints.idle());
    // Kafka projector workers split the sync projections between processes: their gate reads the
    // committed checkpoints instead of counting batches seen here (sharedHintGate.ts).
    const sharedHintGate =
      hints && config.kafkaBrokers && has('projector')
        ? createSharedHintGate(
            SYNC_PROJECTIONS,
            async (names) => new Map([...(await readCheckpoints(projectorPool, names))].map(([name, c]) => [name, c.position])),
            (events) => hints.add(hintTargetsOf(events)),
            (err) => logger.warn({ err }, 'reading projection checkpoints for hints failed'),
          )
        : undefined;
    if (sharedHintGate) closers.push(async () => sharedHintGate.stop());
    const runnerOptions = {
      pool: projectorPool,
      store: projectorStore,
      fanoutLimit: config.fanoutLimit,
      failpoints,
      // Hint only once every projection serving sync has the events, so the pull finds them.
      // The publication itself runs beside the projector (hintPublisher.ts), never in its way.
      onApplied: hints
        ? sharedHintGate
          ? (name: string, events: readonly RecordedEvent[]) => sharedHintGate.applied(name, events)
          : (name: string, events: readonly RecordedEvent[]) => {
              const ready = hintGate.applied(name, events);
              if (ready.length > 0) hints.add(hintTargetsOf(ready));
            }
        : undefined,
    };
    // Also what the API's status and readiness read, even where no projector runs.
    const runner = createProjectionRunner({ ...runnerOptions, logger });
    // With Kafka, the bus roles (docs/distributed.md): the relay publishes the log, projectors share
    // the projections as a consumer group. Without it, the projector runs every projection here.
    const bus = config.kafkaBrokers && (has('relay') || has('projector')) ? await connectKafkaBus(config, config.kafkaBrokers, logger) : undefined;
    if (bus && has('relay')) {
      const relayPool = openPool(db.url, 3);
      closers.push(() => relayPool.end());
      const relayStore = config.eventStoreUrl ? store : createPostgresEventStore({ pool: relayPool });
      if (relayStore !== store) closers.push(() => relayStore.close());
      closers.push(await startRelayRole(bus, relayPool, relayStore, logger));
    }
    if (has('projector')) {
      if (bus) {
        closers.push(await startGroupProjectorRole(bus, config, runnerOptions, logger));
      } else {
        await runner.start();
        closers.push(() => runner.stop());
      }
    }

    // The hot tier: Redis is shared by every node; an in-memory one exists only where the projector fills it.
    const hot = config.redisUrl || has('projector') ? await openHotStore(config) : undefined;
    if (hot) {
      closers.push(() => hot.close());
      logger.info({ tier: 'hot', adapter: hot.kind }, 'hot tier ready');
    }
    if (hot && has('projector')) {
      const hotProjection = createHotProjection({ store: projectorStore, hot, maxItems: config.tiers.hotItems, fanoutLimit: config.fanoutLimit, logger });
      await hotProjection.start();
      closers.push(() => hotProjection.stop());
      registerHotMetrics(metricsRegistry, hotProjection);
    }
    if (has('projector') && config.tiers.intervalSeconds > 0) {
      const schedule = scheduleTierJob({ pool: projectorPool, store: projectorStore, hot, settings: config.tiers }, config.tiers.intervalSeconds * 1000, logger);
      closers.push(() => schedule.stop());
    }

    let url: string | undefined;
    if (has('api') || has('gateway')) {
      const app = await buildApp({ config, commands, pool: db.pool, store, tokens, projections: runner, presence: gateway?.presence ?? (cluster.shared ? cluster.presence : undefined), logger, metricsRegistry, hot, options: { rateLimitMax: config.rateLimitPerMinute, rateLimitWindowMs: 60_000 } });
      gateway?.attach(app.server);
      closers.push(() => app.close());
      // Upgraded sockets are not tracked by the HTTP server: close them first (closers run in reverse).
      if (gateway) closers.push(() => gateway.close());
      url = await app.listen({ port: config.port, host: config.host });
    }
    if (config.devAuth) {
      logger.warn('DEVELOPMENT LOGIN IS ON: anyone can get a token for any user at POST /v1/dev/token. Set MISSIVE_DEV_AUTH=false and configure MISSIVE_JWT_* for production.');
    }
    return { url, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function jwtSecret(config: Config): string | undefined {
  if (config.jwt.secret) return config.jwt.secret;
  if (config.devAuth) return loadOrCreateDevSecret(config.dataDir);
  if (!config.jwt.publicKey && !config.jwt.jwksUrl) {
    throw new ConfigError('No token verification configured: set MISSIVE_JWT_SECRET, MISSIVE_JWT_PUBLIC_KEY or MISSIVE_JWT_JWKS_URL (or MISSIVE_DEV_AUTH=true for development)');
  }
  return undefined;
}
