// Reads every projection view of a small world through the public query functions, paging with small
// limits the way clients do, into plain JSON (test/oracle/expectedViews.ts has the same shape), and
// walks a user's sync with a cursor. Shared by the property, crash and rebuild tests.
import type pg from 'pg';
import { getDelta, getHistory, getMembers, getUnread, listConversations, type DeltaItem, type SessionRow, type SyncCursor, type TimelineItem } from '../../src/projections/index.js';
import type { WorldViews } from '../oracle/expectedViews.js';

export interface ReadViewsOptions {
  users: readonly string[];
  conversationIds: readonly string[];
  /** Page size for history and session-list pages (small, so paging itself is exercised). */
  pageSize?: number;
}

/** A whole history read forwards, `after` the last seq of each page. */
export async function readHistoryForwards(pool: pg.Pool, conversationId: string, pageSize: number): Promise<TimelineItem[]> {
  const items: TimelineItem[] = [];
  for (let after = 0; ; ) {
    const page = await getHistory(pool, conversationId, { after, limit: pageSize });
    items.push(...page.items);
    if (page.items.length < pageSize) return items;
    after = page.items.at(-1)!.seq;
  }
}

/** A whole history read backwards from the newest page, `before` the first seq of each page. */
export async function readHistoryBackwards(pool: pg.Pool, conversationId: string, pageSize: number): Promise<TimelineItem[]> {
  const pages: TimelineItem[][] = [];
  let page = await getHistory(pool, conversationId, { limit: pageSize });
  for (;;) {
    pages.unshift(page.items);
    if (page.items.length < pageSize || page.items[0]!.seq <= 1) return pages.flat();
    page = await getHistory(pool, conversationId, { before: page.items[0]!.seq, limit: pageSize });
  }
}

export async function readSessionList(pool: pg.Pool, userId: string, pageSize: number): Promise<SessionRow[]> {
  const rows: SessionRow[] = [];
  let cursor: string | null = null;
  do {
    const page = await listConversations(pool, userId, { limit: pageSize, cursor });
    rows.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return rows;
}

export async function readWorldViews(pool: pg.Pool, options: ReadViewsOptions): Promise<WorldViews> {
  const pageSize = options.pageSize ?? 4;
  const views: WorldViews = { members: {}, histories: {}, unread: {}, sessions: {} };
  for (const conversationId of options.conversationIds) {
    const members = await getMembers(pool, conversationId);
    views.members[conversationId] = members && { ...members, members: [...members.members].sort((a, b) => (a.userId < b.userId ? -1 : 1)) };
    views.histories[conversationId] = await readHistoryForwards(pool, conversationId, pageSize);
  }
  for (const userId of options.users) {
    views.unread[userId] = await getUnread(pool, userId);
    views.sessions[userId] = await readSessionList(pool, userId, pageSize);
  }
  return views;
}

/** One device's sync: keeps its cursor and everything it received. */
export interface SyncWalker {
  readonly userId: string;
  cursor: SyncCursor;
  readonly received: DeltaItem[];
  /** The latest session row received per conversation, and the latest unread total. */
  readonly rows: Map<string, SessionRow>;
  unreadTotal: number | null;
  /** Pulls pages of `limit` until hasMore is false (or `maxPages` pages); returns the pages pulled. */
  pull(limit: number, maxPages?: number): Promise<number>;
}

/** A bound on one pull, so a cursor that never advances fails the test instead of hanging it. */
const MAX_PAGES = 5_000;

/** A device that starts where the views are now (its first pull, with no cursor, gets no items). */
export async function startSyncWalker(pool: pg.Pool, userId: string): Promise<SyncWalker> {
  const fresh = await getDelta(pool, userId, null, 1);
  const walker: SyncWalker = {
    userId,
    cursor: fresh.nextCursor,
    received: [],
    rows: new Map(fresh.conversations.map((r) => [r.conversationId, r])),
    unreadTotal: fresh.unreadTotal,
    async pull(limit, maxPages) {
      for (let pages = 1; ; pages++) {
        if (pages > MAX_PAGES) throw new Error(`sync of ${userId} still hasMore after ${MAX_PAGES} pages`);
        const delta = await getDelta(pool, userId, walker.cursor, limit);
        if (delta.items.length > limit) throw new Error(`sync page of ${delta.items.length} items for limit ${limit}`);
        if (delta.items.length === 0 && delta.hasMore) throw new Error(`sync of ${userId}: an empty page says hasMore`);
        walker.received.push(...delta.items);
        for (const row of delta.conversations) walker.rows.set(row.conversationId, row);
        walker.unreadTotal = delta.unreadTotal;
        walker.cursor = delta.nextCursor;
        if (!delta.hasMore || pages === maxPages) return pages;
      }
    },
  };
  return walker;
}
