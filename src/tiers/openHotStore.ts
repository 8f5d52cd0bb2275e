// Picks the hot tier's adapter from the configuration: Redis when REDIS_URL is set, else process memory.
import type { Config } from '../config/config.js';
import type { HotStore } from './hotStore.js';
import { createMemoryHotStore } from './memoryHotStore.js';
import { createRedisHotStore } from './redisHotStore.js';

export async function openHotStore(config: Pick<Config, 'redisUrl' | 'tiers'>): Promise<HotStore> {
  return config.redisUrl ? createRedisHotStore({ url: config.redisUrl, prefix: config.tiers.hotKeyPrefix }) : createMemoryHotStore();
}
