// Composes presence, socket routing and hint delivery for one process: in memory when no REDIS_URL is
// set (one node, as before), in Redis otherwise, so that gateways on several nodes share presence and
// each hint reaches only the nodes holding the user's sockets (docs/distributed-gateway.md).
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createMemoryHintBus, type HintBus } from '../gateway/hintBus.js';
import { createHintRouter } from '../gateway/hintRouter.js';
import { createMemoryPresenceStore, type PresenceStore } from '../gateway/presence.js';
import { createRedisHintBus } from '../gateway/redisHintBus.js';
import { createRedisPresenceStore, nodeRoutingId, REDIS_PRESENCE_DEFAULTS } from '../gateway/redisPresence.js';

export interface GatewayClusterOptions {
  redisUrl: string | undefined;
  /** The configured node id (MISSIVE_NODE_ID or generated); a boot id is appended for routing. */
  nodeId: string;
  ttlMs?: number;
  keyPrefix?: string;
  logger: Logger;
}

export interface GatewayCluster {
  /** True when presence and routes are shared with other nodes (Redis). */
  readonly shared: boolean;
  readonly presence: PresenceStore;
  /** How often a gateway here must heartbeat the presence store. */
  readonly heartbeatMs: number;
  /** Gateway side: registers this node and hands it the hints addressed to it. Call before accepting sockets. */
  receiveHints(gateway: { notifyUsers(userIds: Iterable<string>): void }): Promise<void>;
  /** Projector side: these users' views advanced; hint the nodes holding their sockets. Never throws. */
  hintUsers(userIds: Iterable<string>): Promise<void>;
  close(): Promise<void>;
}

export async function openGatewayCluster(options: GatewayClusterOptions): Promise<GatewayCluster> {
  const logger = options.logger.child({ component: 'gateway-cluster' });
  const ttlMs = options.ttlMs ?? REDIS_PRESENCE_DEFAULTS.ttlMs;
  const keyPrefix = options.keyPrefix ?? REDIS_PRESENCE_DEFAULTS.keyPrefix;
  const routingId = nodeRoutingId(options.nodeId);
  let redis: Redis | undefined;
  let presence: PresenceStore;
  let bus: HintBus;
  if (options.redisUrl) {
    // No offline queue: while Redis is unreachable, presence writes and hint publishes fail at once (and are
    // logged) instead of queueing, so the projector's hinting never waits on an outage.
    redis = new Redis(options.redisUrl, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 1, enableOfflineQueue: false });
    redis.on('error', (error) => logger.warn({ err: error }, 'redis error'));
    try {
      await redis.connect();
    } catch (error) {
      redis.disconnect();
      throw new Error(`REDIS_URL: cannot connect for presence and routing (${error instanceof Error ? error.message : String(error)})`);
    }
    presence = createRedisPresenceStore({ redis, nodeId: routingId, keyPrefix, ttlMs });
    bus = createRedisHintBus({ redis, keyPrefix, onError: (error) => logger.warn({ err: error }, 'hint subscriber error') });
  } else {
    presence = createMemoryPresenceStore(Date.now, { nodeId: routingId });
    bus = createMemoryHintBus();
  }

  let localGateway: { notifyUsers(userIds: Iterable<string>): void } | undefined;
  let subscription: { unsubscribe(): Promise<void> } | undefined;
  const router = createHintRouter({
    presence,
    bus,
    local: { nodeId: routingId, deliver: (userIds) => localGateway?.notifyUsers(userIds) },
  });

  logger.info({ nodeId: routingId, store: redis ? 'redis' : 'memory', ttlMs }, 'presence and routing ready');
  return {
    shared: redis !== undefined,
    presence,
    heartbeatMs: Math.max(100, Math.floor(ttlMs / 3)),
    async receiveHints(gateway) {
      await presence.heartbeat();
      localGateway = gateway;
      subscription = await bus.subscribe(routingId, (userIds) => gateway.notifyUsers(userIds));
    },
    async hintUsers(userIds) {
      try {
        await router.hintUsers(userIds);
      } catch (error) {
        // A lost hint costs freshness only: clients pull with their own sync token.
        logger.warn({ err: error }, 'hint routing failed; clients catch up on their next pull');
      }
    },
    async close() {
      await subscription?.unsubscribe();
      await redis?.quit().catch(() => redis?.disconnect());
    },
  };
}
