// The session read path (DESIGN.md §5, §6): the head of the conversation list (its first page) and
// the unread summary come from the hot tier when it is ready and knows every row the answer needs,
// else from warm (the PostgreSQL sessions projection). Later list pages (a cursor) always read warm.
import { getUnread, listConversations, type ListConversationsOptions } from '../projections/index.js';
import type { Queryable } from '../projections/shared/sql.js';
import { checkId, checkLimit } from '../projections/shared/validate.js';
import type { SessionPage, UnreadSummary } from '../projections/types.js';
import { hotSessionHead, hotUnread } from './hotSessionView.js';
import type { HotSessionsRead, HotStore } from './hotStore.js';

export type SessionTier = 'hot' | 'warm';
export type SessionView = 'sessions' | 'unread';

export interface SessionsReaderOptions {
  db: Queryable;
  hot?: HotStore;
  /** Called once per read with the view and the tier that served it (metrics). */
  onRead?: (view: SessionView, tier: SessionTier) => void;
  onHotError?: (error: unknown) => void;
}

export interface SessionsReader {
  list(userId: string, options: ListConversationsOptions): Promise<SessionPage & { tier: SessionTier }>;
  unread(userId: string): Promise<UnreadSummary & { tier: SessionTier }>;
}

export function createSessionsReader(options: SessionsReaderOptions): SessionsReader {
  const { db, hot } = options;

  async function fromHot<T>(userId: string, view: (read: HotSessionsRead) => T | null): Promise<T | null> {
    if (!hot) return null;
    try {
      const read = await hot.readSessions(userId);
      return read.ready ? view(read) : null;
    } catch (error) {
      options.onHotError?.(error);
      return null;
    }
  }

  const served = <T extends object>(view: SessionView, tier: SessionTier, answer: T): T & { tier: SessionTier } => {
    options.onRead?.(view, tier);
    return { ...answer, tier };
  };

  return {
    async list(userId, listOptions) {
      checkId('userId', userId);
      const limit = checkLimit(listOptions.limit);
      const head = listOptions.cursor ? null : await fromHot(userId, (read) => hotSessionHead(userId, read.entries, limit));
      return head ? served('sessions', 'hot', head) : served('sessions', 'warm', await listConversations(db, userId, listOptions));
    },
    async unread(userId) {
      checkId('userId', userId);
      const summary = await fromHot(userId, (read) => hotUnread(read.entries));
      return summary ? served('unread', 'hot', summary) : served('unread', 'warm', await getUnread(db, userId));
    },
  };
}
