// The history read path (DESIGN.md §5, §6): a page of a conversation is taken from the hot tier where
// it holds the seqs, from the warm tier (PostgreSQL timeline) for what hot lacks, and from the cold
// tier (the event store's stream) for what warm lacks (dropped partitions, or a timeline behind the
// log). seq is gapless, so every missing seq is known exactly and the merged page is seamless.
import { conversationStreamId } from '../domain/streams.js';
import type { Queryable } from '../projections/shared/sql.js';
import { InvalidQueryError } from '../projections/errors.js';
import { checkId, checkLimit, checkSeq } from '../projections/shared/validate.js';
import type { TimelineItem } from '../projections/types.js';
import type { EventStore } from '../store/eventStore.js';
import { coldItems } from './coldHistory.js';
import { missingRuns, pageRange, type HistoryQuery } from './historyRange.js';
import type { HotStore } from './hotStore.js';
import { warmItems } from './warmHistory.js';

export type Tier = 'hot' | 'warm' | 'cold';
export const TIERS: readonly Tier[] = ['hot', 'warm', 'cold'];

export interface TieredPage {
  items: TimelineItem[];
  /** The tiers that supplied items, hottest first; for an empty page, the tier that answered. */
  tiers: Tier[];
  /** Items per tier (for metrics). */
  counts: Record<Tier, number>;
}

export interface HistoryReaderOptions {
  /** The warm tier (the timeline's pool). */
  db: Queryable;
  /** The cold tier. */
  store: EventStore;
  /** Absent: no hot tier in this process. */
  hot?: HotStore;
  /** The longest edit/recall window ever configured, ms (cold reads look this far for patches). */
  patchHorizonMs: number;
  /** Called once per page with what each tier supplied (metrics). */
  onPage?: (page: TieredPage) => void;
  /** Hot tier failures are logged here and the read goes on from warm. */
  onHotError?: (error: unknown) => void;
}

export interface HistoryReader {
  read(conversationId: string, query: HistoryQuery): Promise<TieredPage>;
}

export function createHistoryReader(options: HistoryReaderOptions): HistoryReader {
  const { db, store, hot } = options;

  /** The conversation's last seq: the event store's stream is the truth (one indexed read). */
  async function streamHead(conversationId: string): Promise<number> {
    const last = await store.readStream(conversationStreamId(conversationId), { direction: 'backwards', maxCount: 1 });
    return last[0] ? last[0].streamPosition + 1 : 0;
  }

  /** What the hot tier holds of the page, or nothing when it is not ready, lacks it, or fails. */
  async function fromHot(conversationId: string, query: HistoryQuery): Promise<{ head: number; items: TimelineItem[] } | null> {
    if (!hot) return null;
    try {
      // One round trip: the window and the part of the page it holds (computed with its last seq as head).
      const { ready, window, items } = await hot.page(conversationId, query);
      if (!ready || !window) return null;
      return { head: window.last, items };
    } catch (error) {
      options.onHotError?.(error);
      return null;
    }
  }

  return {
    async read(conversationId, query) {
      checkId('conversationId', conversationId);
      const limit = checkLimit(query.limit);
      const before = query.before === undefined ? undefined : checkSeq('before', query.before);
      const after = query.after === undefined ? undefined : checkSeq('after', query.after);
      if (before !== undefined && after !== undefined && before <= after) throw new InvalidQueryError('before', 'before must be greater than after');
      const q: HistoryQuery = { before, after, limit };

      const counts: Record<Tier, number> = { hot: 0, warm: 0, cold: 0 };
      const bySeq = new Map<number, TimelineItem>();
      const take = (tier: Tier, items: readonly TimelineItem[]) => {
        for (const item of items) {
          if (bySeq.has(item.seq)) continue;
          bySeq.set(item.seq, item);
          counts[tier] += 1;
        }
      };

      const hotPart = await fromHot(conversationId, q);
      // With a ready hot window its last seq is the head (the hot projection follows the log within
      // milliseconds, usually ahead of warm); else the stream's own last position.
      const head = hotPart?.head ?? (await streamHead(conversationId));
      const range = pageRange(q, head);
      let answered: Tier = hotPart ? 'hot' : 'warm';
      if (range) {
        if (hotPart) take('hot', hotPart.items);
        let missing = missingRuns(range.from, range.to, new Set(bySeq.keys()));
        if (missing.length > 0) {
          answered = 'warm';
          take('warm', await warmItems(db, conversationId, missing[0]!.from, missing.at(-1)!.to));
          missing = missingRuns(range.from, range.to, new Set(bySeq.keys()));
        }
        for (const run of missing) {
          answered = 'cold';
          take('cold', await coldItems(store, conversationId, run.from, run.to, { patchHorizonMs: options.patchHorizonMs }));
        }
      }
      const items = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
      const tiers = TIERS.filter((t) => counts[t] > 0);
      const page: TieredPage = { items, tiers: tiers.length > 0 ? tiers : [answered], counts };
      options.onPage?.(page);
      return page;
    },
  };
}
