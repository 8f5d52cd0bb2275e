// The hot tier in Redis (distributed mode, REDIS_URL). Every write is one Lua script (redisLua.ts), so
// an applied batch and the checkpoint move together. All keys share one hash tag ({...} in the
// prefix), so the scripts touch one slot and also run on a Redis Cluster.
import { Redis } from 'ioredis';
import { patchItem, type ItemPatch } from '../projections/fold/eventFacts.js';
import type { TimelineItem } from '../projections/types.js';
import { itemTimeMs, type EvictOptions, type EvictResult, type HotOp, type HotRead, type HotState, type HotStore } from './hotStore.js';
import { APPLY, DROP_IDLE, HOT_LAYOUT, MARK_READY, PAGE, RESET, SESSIONS, TRIM, WINDOW } from './redisLua.js';
import { rowKey } from '../projections/sessions/sessionsFold.js';
import type { HotConversationState, HotMembers, HotSessionRow, HotSessionWrites } from './hotSessions.js';

export const DEFAULT_HOT_PREFIX = '{missive:hot}';

export interface RedisHotStoreOptions {
  url: string;
  /** Key prefix; keep a {hash tag} in it (default {missive:hot}). Tests use a unique one. */
  prefix?: string;
}

const SCRIPTS = { hotReset: RESET, hotApply: APPLY, hotMarkReady: MARK_READY, hotWindow: WINDOW, hotTrim: TRIM, hotDropIdle: DROP_IDLE, hotPage: PAGE, hotSessions: SESSIONS } as const;
type ScriptName = keyof typeof SCRIPTS;

/** How many conversations the eviction reads per SCAN step. */
const EVICT_PAGE = 200;
/** How many of a conversation's oldest items eviction inspects per step. */
const AGE_PROBE = 50;

/** The session writes as APPLY's words: kind, key suffix under the epoch, field, value. */
function sessionWords(writes: HotSessionWrites | undefined): string[] {
  if (!writes) return [];
  const words: string[] = [];
  for (const c of writes.conversations) words.push('set', `sc:${c.heads.conversationId}`, '', JSON.stringify(c));
  for (const m of writes.members) words.push('hset', `sm:${m.conversationId}`, m.userId, m.fromSeq === null ? 'x' : String(m.fromSeq));
  for (const r of writes.rows) words.push('hset', `sr:${r.userId}`, r.conversationId, JSON.stringify(r));
  return words;
}

const fromSeqOf = (stored: string): number | null => (stored === 'x' ? null : Number(stored));

/** Runs a pipeline and returns its results, throwing the first error. */
async function results(pipeline: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

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

  // A state of another layout (an older version's) is no state: the projection replaces and rebuilds it.
  const readState = async () => {
    const [epoch, checkpoint, ready, layout] = await redis.hmget(metaKey, 'epoch', 'checkpoint', 'ready', 'layout');
    return layout === HOT_LAYOUT ? toState([epoch, checkpoint, ready]) : null;
  };

  return {
    kind: 'redis',
    readState,
    async reset(resetOptions = {}) {
      const reply = (await run('hotReset', resetOptions.force ? '1' : '0', String(Date.now()), HOT_LAYOUT)) as Array<string | null>;
      const state = toState(reply);
      if (!state) throw new Error('hot tier reset returned no state');
      if (reply[3] === '1') await sweepOtherEpochs(state.epoch);
      return state;
    },
    async apply(expected, to, ops, maxItems, sessions) {
      const words = sessionWords(sessions);
      const args: Array<string | number> = [prefix, String(expected.epoch), expected.checkpoint.toString(), to.toString(), maxItems, words.length / 4, ...words];
      for (const op of ops) {
        if (op.op === 'put') args.push('put', op.conversationId, op.seq, op.atMs, JSON.stringify(op.item));
        else args.push('patch', op.conversationId, op.targetSeq, 0, JSON.stringify(op.patch));
      }
      return Number(await run('hotApply', ...args)) === 1;
    },
    async readSessionConversations(epoch, ids) {
      const found = new Map<string, HotConversationState>();
      if (ids.length === 0) return found;
      const values = await redis.mget(...ids.map((c) => `${base(epoch)}:sc:${c}`));
      ids.forEach((c, i) => {
        const json = values[i];
        if (json) found.set(c, JSON.parse(json) as HotConversationState);
      });
      return found;
    },
    async readSessionMembers(epoch, plan) {
      const found: HotMembers = new Map();
      if (plan.allMembersOf.length + plan.namedMembers.length === 0) return found;
      const pipeline = redis.pipeline();
      for (const c of plan.allMembersOf) pipeline.hgetall(`${base(epoch)}:sm:${c}`);
      for (const m of plan.namedMembers) pipeline.hget(`${base(epoch)}:sm:${m.conversationId}`, m.userId);
      const replies = await results(pipeline);
      plan.allMembersOf.forEach((c, i) => {
        found.set(c, new Map(Object.entries(replies[i] as Record<string, string>).map(([u, v]) => [u, fromSeqOf(v)])));
      });
      plan.namedMembers.forEach((m, i) => {
        const stored = replies[plan.allMembersOf.length + i] as string | null;
        if (stored === null) return;
        const users = found.get(m.conversationId) ?? new Map<string, number | null>();
        users.set(m.userId, fromSeqOf(stored));
        found.set(m.conversationId, users);
      });
      return found;
    },
    async readSessionRows(epoch, pairs) {
      const found = new Map<string, HotSessionRow>();
      if (pairs.length === 0) return found;
      const pipeline = redis.pipeline();
      for (const p of pairs) pipeline.hget(`${base(epoch)}:sr:${p.userId}`, p.conversationId);
      const replies = await results(pipeline);
      pairs.forEach((p, i) => {
        const json = replies[i] as string | null;
        if (json) found.set(rowKey(p.userId, p.conversationId), JSON.parse(json) as HotSessionRow);
      });
      return found;
    },
    async readSessions(userId) {
      const reply = (await run('hotSessions', prefix, userId, HOT_LAYOUT)) as string[];
      if (reply.length === 0) return { ready: false, epoch: 0, entries: [] };
      const entries = [];
      for (let i = 2; i + 2 < reply.length; i += 3) {
        entries.push({
          row: JSON.parse(reply[i + 1]!) as HotSessionRow,
          conversation: reply[i + 2] ? (JSON.parse(reply[i + 2]!) as HotConversationState) : null,
        });
      }
      return { ready: reply[1] === '1', epoch: Number(reply[0]), entries };
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
