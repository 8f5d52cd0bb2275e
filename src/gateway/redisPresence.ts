// Presence and socket routing in Redis, shared by every gateway node (the PresenceStore port; the same
// contract suite as the memory adapter). Redis holds derived data only: if it restarts empty, each node's
// next heartbeat reports { rejoined: true } and the node registers its open sockets again.
//
// Keys under one prefix (default "missive:gw:"):
//   nodes                ZSET  nodeId → time of its last heartbeat (Redis server clock, ms)
//   sockets:<userId>     HASH  connectionId → nodeId holding it
//   node:<nodeId>:sockets SET  JSON [userId, connectionId] of every socket that node registered (for the sweep)
//   seen:<userId>        STRING last-seen time, ms
// Liveness is judged on the Redis server's clock (TIME inside the scripts), so nodes' clock skew does not
// matter. A node whose heartbeat is older than ttlMs is dead at once for readers; the next heartbeat of
// any node sweeps its records (bounded batches, atomically per batch).
//
// The sweep script derives user keys from the popped set members, so it needs one Redis primary (or a
// replicated one), not Redis Cluster.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { PresenceEntry, PresenceStore } from './presence.js';
import { redisScript } from './redisScript.js';

export const REDIS_PRESENCE_DEFAULTS = { keyPrefix: 'missive:gw:', ttlMs: 15_000 } as const;

export interface RedisPresenceOptions {
  /** A connected client; the caller owns it (and closes it after leave()). */
  redis: Redis;
  /** This node's routing id; unique per process run (see nodeRoutingId). */
  nodeId: string;
  keyPrefix?: string;
  /** A node silent for longer than this is dead; heartbeat at least three times per ttl. */
  ttlMs?: number;
  now?: () => number;
}

const SERVER_NOW_LUA = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// KEYS: sockets:<u>, node:<n>:sockets, seen:<u>. ARGV: connectionId, nodeId, set member, at.
const CONNECT = redisScript(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
if tonumber(ARGV[4]) > tonumber(redis.call('GET', KEYS[3]) or '0') then redis.call('SET', KEYS[3], ARGV[4]) end
return 1`);

// Same keys and arguments; lastSeen moves only when the socket was registered.
const DISCONNECT = redisScript(`
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('SREM', KEYS[2], ARGV[3])
if tonumber(ARGV[4]) > tonumber(redis.call('GET', KEYS[3]) or '0') then redis.call('SET', KEYS[3], ARGV[4]) end
return 1`);

// KEYS: nodes. ARGV: nodeId, ttlMs, how many dead nodes to report.
// Returns { rejoined (1: unknown or already dead before this beat), dead node ids }.
const HEARTBEAT = redisScript(`
${SERVER_NOW_LUA}
local ttl = tonumber(ARGV[2])
local previous = redis.call('ZSCORE', KEYS[1], ARGV[1])
local rejoined = 0
if (not previous) or now - tonumber(previous) > ttl then rejoined = 1 end
redis.call('ZADD', KEYS[1], now, ARGV[1])
return { rejoined, redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - ttl), 'LIMIT', 0, tonumber(ARGV[3])) }`);

// One batch of removing a node's records. KEYS: nodes. ARGV: prefix, nodeId, ttlMs, batch size, force (1 on leave).
// Returns -1 when the node is alive again (nothing touched), else how many sockets it removed (0: done).
const SWEEP = redisScript(`
${SERVER_NOW_LUA}
local prefix, node = ARGV[1], ARGV[2]
local score = redis.call('ZSCORE', KEYS[1], node)
if ARGV[5] ~= '1' and score and now - tonumber(score) <= tonumber(ARGV[3]) then return -1 end
local lastSeen = now
if ARGV[5] ~= '1' then lastSeen = score and tonumber(score) or 0 end
local setKey = prefix .. 'node:' .. node .. ':sockets'
local members = redis.call('SPOP', setKey, tonumber(ARGV[4]))
for _, member in ipairs(members) do
  local pair = cjson.decode(member)
  redis.call('HDEL', prefix .. 'sockets:' .. pair[1], pair[2])
  local seenKey = prefix .. 'seen:' .. pair[1]
  if lastSeen > tonumber(redis.call('GET', seenKey) or '0') then redis.call('SET', seenKey, lastSeen) end
end
if redis.call('SCARD', setKey) == 0 then
  redis.call('ZREM', KEYS[1], node)
  return 0
end
return #members`);

// KEYS: nodes, sockets:<u1..un>, seen:<u1..un>. ARGV: ttlMs, n.
// Returns per user { lastSeen ms or -1 (the later of the recorded time and the last beat of a dead holder), live node ids }.
const LOOKUP = redisScript(`
${SERVER_NOW_LUA}
local ttl, n = tonumber(ARGV[1]), tonumber(ARGV[2])
local beats = {}
local out = {}
for i = 1, n do
  local seen = tonumber(redis.call('GET', KEYS[1 + n + i]) or '-1')
  local live, listed = {}, {}
  for _, node in ipairs(redis.call('HVALS', KEYS[1 + i])) do
    if not listed[node] then
      listed[node] = true
      if beats[node] == nil then beats[node] = tonumber(redis.call('ZSCORE', KEYS[1], node) or '-1') end
      local beat = beats[node]
      if beat >= 0 and now - beat <= ttl then table.insert(live, node) elseif beat > seen then seen = beat end
    end
  end
  out[i] = { seen, live }
end
return out`);

/** Users per LOOKUP call: bounds the script's run time (Redis does nothing else meanwhile). */
const LOOKUP_CHUNK = 256;
const SWEEP_BATCH = 256;
/** Batches one heartbeat may spend sweeping; the rest waits for the next heartbeat. */
const SWEEP_BUDGET = 64;

/** A routing id unique to this process run: the configured node id plus a boot id. */
export const nodeRoutingId = (nodeId: string): string => `${nodeId}/${randomUUID().slice(0, 8)}`;

export function createRedisPresenceStore(options: RedisPresenceOptions): PresenceStore {
  const { redis, nodeId } = options;
  const prefix = options.keyPrefix ?? REDIS_PRESENCE_DEFAULTS.keyPrefix;
  const ttlMs = options.ttlMs ?? REDIS_PRESENCE_DEFAULTS.ttlMs;
  const now = options.now ?? Date.now;
  const nodesKey = `${prefix}nodes`;
  const socketsKey = (userId: string) => `${prefix}sockets:${userId}`;
  const seenKey = (userId: string) => `${prefix}seen:${userId}`;
  const nodeSocketsKey = `${prefix}node:${nodeId}:sockets`;
  let beaten = false;

  function socketArgs(userId: string, connectionId: string, at: number) {
    return {
      keys: [socketsKey(userId), nodeSocketsKey, seenKey(userId)],
      args: [connectionId, nodeId, JSON.stringify([userId, connectionId]), Math.floor(at)],
    };
  }

  async function lookup(userIds: readonly string[]): Promise<Array<{ userId: string; lastSeen: number | null; live: string[] }>> {
    const results: Array<{ userId: string; lastSeen: number | null; live: string[] }> = [];
    for (let start = 0; start < userIds.length; start += LOOKUP_CHUNK) {
      const chunk = userIds.slice(start, start + LOOKUP_CHUNK);
      const keys = [nodesKey, ...chunk.map(socketsKey), ...chunk.map(seenKey)];
      const rows = (await LOOKUP(redis, keys, [ttlMs, chunk.length])) as Array<[number, string[]]>;
      chunk.forEach((userId, i) => {
        const [seen, live] = rows[i]!;
        results.push({ userId, lastSeen: seen >= 0 ? seen : null, live });
      });
    }
    return results;
  }

  async function sweep(node: string, force: boolean): Promise<void> {
    for (let batch = 0; batch < SWEEP_BUDGET; batch++) {
      const removed = (await SWEEP(redis, [nodesKey], [prefix, node, ttlMs, SWEEP_BATCH, force ? '1' : '0'])) as number;
      if (removed <= 0) return;
    }
  }

  return {
    nodeId,
    async deviceConnected(userId, connectionId, at) {
      const { keys, args } = socketArgs(userId, connectionId, at);
      await CONNECT(redis, keys, args);
    },
    async deviceDisconnected(userId, connectionId, at) {
      const { keys, args } = socketArgs(userId, connectionId, at);
      await DISCONNECT(redis, keys, args);
    },
    async get(userIds): Promise<PresenceEntry[]> {
      const time = now();
      return (await lookup(userIds)).map(({ userId, lastSeen, live }) => {
        if (live.length > 0) return { userId, online: true, lastSeen: new Date(time).toISOString() };
        return { userId, online: false, lastSeen: lastSeen === null ? null : new Date(lastSeen).toISOString() };
      });
    },
    async nodesOf(userIds) {
      const byNode = new Map<string, string[]>();
      for (const { userId, live } of await lookup([...new Set(userIds)])) {
        for (const node of live) {
          const users = byNode.get(node);
          if (users) users.push(userId);
          else byNode.set(node, [userId]);
        }
      }
      return byNode;
    },
    async heartbeat() {
      const [rejoined, dead] = (await HEARTBEAT(redis, [nodesKey], [nodeId, ttlMs, 4])) as [number, string[]];
      // The first beat of a run registers the node; a later one finding it unknown means it was forgotten.
      const wasForgotten = beaten && rejoined === 1;
      beaten = true;
      for (const node of dead) await sweep(node, false);
      return { rejoined: wasForgotten };
    },
    async leave() {
      await sweep(nodeId, true);
    },
  };
}
