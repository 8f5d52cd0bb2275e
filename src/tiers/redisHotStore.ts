// The hot tier in Redis (distributed mode, REDIS_URL). Every write is one Lua script (redisLua.ts), so
// an applied batch and the checkpoint move together. All keys share one hash tag ({...} in the
// prefix), so the scripts touch one slot and also run on a Redis Cluster.
import { Redis } from 'ioredis';
import { patchItem, type ItemPatch } from '../projections/fold/eventFacts.js';
import type { TimelineItem } from '../projections/types.js';
import { itemTimeMs, type EvictOptions, type EvictResult, type HotOp, type HotRead, type HotState, type HotStore } from './hotStore.js';
import { APPLY, DROP_IDLE, MARK_READY, PAGE, RESET, TRIM, WINDOW } from './redisLua.js';

export const DEFAULT_HOT_PREFIX = '{missive:hot}';

export interface RedisHotStoreOptions {
  url: string;
  /** Key prefix; keep a {hash tag} in it (default {missive:hot}). Tests use a unique one. */
  prefix?: string;
}

const SCRIPTS = { hotReset: RESET, hotApply: APPLY, hotMarkReady: MARK_READY, hotWindow: WINDOW, hotTrim: TRIM, hotDropIdle: DROP_IDLE, hotPage: PAGE } as const;
type ScriptName = keyof typeof SCRIPTS;

/** How many conversations the eviction reads per SCAN step. */
const EVICT_PAGE = 200;
/** How many of a conversation's oldest items eviction inspects per step. */
const AGE_PROBE = 50;

/** Applies a stored patch list (JSON array, in log order) to an item. */
function withPatches(item: TimelineItem, patches: string | undefined): TimelineItem {
  if (!patches) return item;
  let patched = item;
  for (const patch of JSON.parse(patches) as ItemPatch[]) patched = patchItem(patched, patch);
  return patched;
}

/** Connects (rejects when Redis cannot be reached now) and returns the hot tier on it. */
export async function createRedisHotStore(options: RedisHotStoreOptions): Promise<HotStore> {
  const prefix = options.prefix ?? DEFAULT_HOT_PREFIX;
  const metaKey = `${prefix}:meta`;
  // Calls fail at once while Redis is unreachable (no offline queue) and after 2 s when it hangs: the
  // history reader then serves from warm and cold, the projection retries. The client reconnects alone.
  const redis = new Redis(options.url, { connectTimeout: 2_000, commandTimeout: 2_000, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  redis.on('error', () => {}); // reported by the failing calls; without a listener ioredis logs to stderr
  for (const [name, lua] of Object.entries(SCRIPTS)) redis.defineCommand(name, { numberOfKeys: 1, lua });
  await redis.connect();
  const run = (name: ScriptName, ...args: Array<string | number>): Promise<unknown> =>
    (redis as unknown as Record<ScriptName, (key: string, ...a: Array<string | number>) => Promise<unknown>>)[name](metaKey, ...args);
  const base = (epoch: number) => `${prefix}:e${epoch}`;

  const toState = (reply: unknown): HotState | null => {
    const [epoch, checkpoint, ready] = reply as Array<string | null>;
    if (!epoch || checkpoint === null || checkpoint === undefined) return null;
    return { epoch: Number(epoch), checkpoint: BigInt(checkpoint), ready: ready === '1' };
  };

  /** Deletes the keys of every epoch but `keep` (after a forced reset), SCAN by SCAN. */
  async function sweepOtherEpochs(keep: number): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:e*`, 'COUNT', 500);
      cursor = next;
      const stale = keys.filter((k) => !k.startsWith(`${base(keep)}:`));
      if (stale.length > 0) await redis.unlink(...stale);
    } while (cursor !== '0');
  }

  async function evictConversation(epoch: number, conversationId: string, { maxItems, olderThanMs }: EvictOptions): Promise<number> {
    const win = await redis.hmget(`${base(epoch)}:w:${conversationId}`, 'lo', 'last');
    if (!win[0] || !win[1]) return 0;
    const last = Number(win[1]);
    let newLo = Math.max(Number(win[0]), last - maxItems + 1);
    // Age: walk up from the oldest kept item until one is recent enough (items are in seq order, which
    // is time order up to clock skew; an old item after a newer one simply waits for the count limit).
    for (let steps = 0; steps < 1_000 && newLo < last; steps++) {
      const oldest = await redis.zrangebyscore(`${base(epoch)}:i:${conversationId}`, newLo, last, 'LIMIT', 0, AGE_PROBE);
      const firstRecent = oldest.findIndex((json) => itemTimeMs(JSON.parse(json) as TimelineItem) >= olderThanMs);
      if (firstRecent >= 0) {
        newLo += firstRecent;
        break;
      }
      newLo += oldest.length;
      if (oldest.length < AGE_PROBE) break;
    }
    return Number(await run('hotTrim', prefix, String(epoch), conversationId, Math.min(newLo, last)));
  }

  const readState = async () => toState(await redis.hmget(metaKey, 'epoch', 'checkpoint', 'ready'));

  return {
    kind: 'redis',
    readState,
    async reset(resetOptions = {}) {
      const state = toState(await run('hotReset', resetOptions.force ? '1' : '0', String(Date.now())));
      if (!state) throw new Error('hot tier reset returned no state');
      if (resetOptions.force) await sweepOtherEpochs(state.epoch);
      return state;
    },
    async apply(expected, to, ops, maxItems) {
      const args: Array<string | number> = [prefix, String(expected.epoch), expected.checkpoint.toString(), to.toString(), maxItems];
      for (const op of ops) {
        if (op.op === 'put') args.push('put', op.conversationId, op.seq, op.atMs, JSON.stringify(op.item));
        else args.push('patch', op.conversationId, op.targetSeq, 0, JSON.stringify(op.patch));
      }
      return Number(await run('hotApply', ...args)) === 1;
    },
    async markReady(epoch) {
      return Number(await run('hotMarkReady', String(epoch))) === 1;
    },
    async window(conversationId): Promise<HotRead> {
      const reply = (await run('hotWindow', prefix, conversationId)) as string[];
      if (reply.length === 0) return { ready: false, epoch: 0, window: null };
      const [epoch, ready, lo, last] = reply as [string, string, string, string];
      return { ready: ready === '1', epoch: Number(epoch), window: lo && last ? { lo: Number(lo), last: Number(last) } : null };
    },
    async page(conversationId, query) {
      const reply = (await run('hotPage', prefix, conversationId, query.after ?? -1, query.before ?? -1, query.limit)) as string[];
      if (reply.length === 0) return { ready: false, epoch: 0, window: null, items: [] };
      const [epoch, ready, lo, last] = reply as [string, string, string, string];
      const read: HotRead = { ready: ready === '1', epoch: Number(epoch), window: lo && last ? { lo: Number(lo), last: Number(last) } : null };
      const count = Number(reply[4] ?? 0);
      const patches = new Map<number, string>();
      for (let i = 5 + count; i + 1 < reply.length; i += 2) patches.set(Number(reply[i]), reply[i + 1]!);
      const items = reply.slice(5, 5 + count).map((json) => {
        const item = JSON.parse(json) as TimelineItem;
        return withPatches(item, patches.get(item.seq));
      });
      return { ...read, items };
    },
    async items(epoch, conversationId, from, to) {
      if (from > to) return [];
      const results = await redis
        .pipeline()
        .zrangebyscore(`${base(epoch)}:i:${conversationId}`, from, to)
        .hgetall(`${base(epoch)}:p:${conversationId}`)
        .exec();
      const [[itemsError, rawItems], [patchError, rawPatches]] = results as [[Error | null, string[]], [Error | null, Record<string, string>]];
      if (itemsError) throw itemsError;
      if (patchError) throw patchError;
      return rawItems.map((json) => {
        const item = JSON.parse(json) as TimelineItem;
        return withPatches(item, rawPatches[String(item.seq)]);
      });
    },
    async evict(evictOptions): Promise<EvictResult> {
      const result: EvictResult = { itemsEvicted: 0, conversationsDropped: 0 };
      const state = await readState();
      if (!state) return result;
      const convs = `${base(state.epoch)}:convs`;
      // Idle conversations first: their whole window goes.
      for (let rounds = 0; rounds < 100_000; rounds++) {
        const idle = await redis.zrangebyscore(convs, '-inf', `(${evictOptions.olderThanMs}`, 'LIMIT', 0, EVICT_PAGE);
        let droppedAny = false;
        for (const c of idle) {
          const dropped = Number(await run('hotDropIdle', prefix, String(state.epoch), c, evictOptions.olderThanMs));
          if (dropped < 0) continue; // active again, or the epoch changed under us
          droppedAny = true;
          result.itemsEvicted += dropped;
          result.conversationsDropped += 1;
        }
        if (!droppedAny) break;
      }
      let cursor = '0';
      do {
        const [next, flat] = await redis.zscan(convs, cursor, 'COUNT', EVICT_PAGE);
        cursor = next;
        for (let i = 0; i < flat.length; i += 2) result.itemsEvicted += await evictConversation(state.epoch, flat[i]!, evictOptions);
      } while (cursor !== '0');
      return result;
    },
    async close() {
      redis.disconnect();
    },
  };
}
