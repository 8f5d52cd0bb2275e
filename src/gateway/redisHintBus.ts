// Hints between nodes over Redis pub/sub, one channel per node (docs/distributed-gateway.md says why not
// a Kafka topic per node). PUBLISH goes on the shared command connection; SUBSCRIBE needs a connection of
// its own (a subscribed connection accepts no other commands). Redis pub/sub is at most once: a node that
// is disconnected when a hint is published never gets it — acceptable for hints, and the gateway hints all
// of its sockets after it re-registers with Redis (see gateway.ts, rejoin).
import type { Redis } from 'ioredis';
import type { HintBus, HintListener } from './hintBus.js';

export interface RedisHintBusOptions {
  /** The command connection, for PUBLISH; the caller owns it. */
  redis: Redis;
  keyPrefix: string;
  onError?: (error: unknown) => void;
}

export const hintChannel = (keyPrefix: string, nodeId: string): string => `${keyPrefix}hints:${nodeId}`;

export function createRedisHintBus(options: RedisHintBusOptions): HintBus {
  const { redis, keyPrefix } = options;
  return {
    async publish(nodeId, userIds) {
      await redis.publish(hintChannel(keyPrefix, nodeId), JSON.stringify(userIds));
    },
    async subscribe(nodeId, listener: HintListener) {
      const channel = hintChannel(keyPrefix, nodeId);
      // ioredis re-subscribes this connection by itself after a reconnect.
      // Queue SUBSCRIBE until this new connection is up, whatever the command connection's settings.
      const subscriber = redis.duplicate({ enableOfflineQueue: true });
      let subscribed = true;
      subscriber.on('error', (error) => options.onError?.(error));
      subscriber.on('message', (from: string, message: string) => {
        if (!subscribed || from !== channel) return;
        const userIds = parseUserIds(message);
        if (userIds) listener(userIds);
        else options.onError?.(new Error(`malformed hint on ${channel}`));
      });
      await subscriber.subscribe(channel);
      return {
        async unsubscribe() {
          subscribed = false; // nothing is delivered after this, even what is already on the wire
          await subscriber.quit().catch(() => subscriber.disconnect());
        },
      };
    },
  };
}

function parseUserIds(message: string): string[] | null {
  try {
    const value: unknown = JSON.parse(message);
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : null;
  } catch {
    return null;
  }
}
