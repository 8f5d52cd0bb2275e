// The hot tier in process memory (embedded mode): the same semantics as the Redis adapter, checked by
// the same contract suite (test/contract/hotStoreContract.ts). It dies with the process, and the hot
// projection rebuilds it from the log at start.
import { patchItem } from '../projections/fold/eventFacts.js';
import { pageRange } from './historyRange.js';
import type { TimelineItem } from '../projections/types.js';
import { rowKey } from '../projections/sessions/sessionsFold.js';
import type { HotConversationState, HotMembers, HotSessionRow, HotSessionWrites } from './hotSessions.js';
import { itemTimeMs, type EvictOptions, type EvictResult, type HotOp, type HotRead, type HotState, type HotStore } from './hotStore.js';

interface Conversation {
  lo: number;
  last: number;
  /** seq → item, for seqs lo..last. */
  items: Map<number, TimelineItem>;
  lastActivityMs: number;
}

/** Session state, kept as JSON text like in Redis so a reader never shares objects with the writer. */
interface Sessions {
  conversations: Map<string, string>;
  members: Map<string, Map<string, number | null>>;
  /** user → conversation → row JSON */
  rows: Map<string, Map<string, string>>;
}

interface Epoch {
  state: HotState;
  conversations: Map<string, Conversation>;
  sessions: Sessions;
}

const emptySessions = (): Sessions => ({ conversations: new Map(), members: new Map(), rows: new Map() });

function writeSessions(sessions: Sessions, writes: HotSessionWrites): void {
  for (const c of writes.conversations) sessions.conversations.set(c.heads.conversationId, JSON.stringify(c));
  for (const m of writes.members) {
    const users = sessions.members.get(m.conversationId) ?? new Map<string, number | null>();
    users.set(m.userId, m.fromSeq);
    sessions.members.set(m.conversationId, users);
  }
  for (const r of writes.rows) {
    const byConversation = sessions.rows.get(r.userId) ?? new Map<string, string>();
    byConversation.set(r.conversationId, JSON.stringify(r));
    sessions.rows.set(r.userId, byConversation);
  }
}

export function createMemoryHotStore(): HotStore & { /** Forgets everything, like a Redis FLUSHALL (tests). */ flush(): void } {
  let current: Epoch | null = null;
  let epochs = 0;

  function trimTo(conversation: Conversation, maxItems: number): number {
    let evicted = 0;
    while (conversation.last - conversation.lo + 1 > maxItems) {
      conversation.items.delete(conversation.lo);
      conversation.lo += 1;
      evicted += 1;
    }
    return evicted;
  }

  function applyOp(conversations: Map<string, Conversation>, op: HotOp): void {
    const conversation = conversations.get(op.conversationId);
    if (op.op === 'patch') {
      const target = conversation?.items.get(op.targetSeq);
      if (target) conversation!.items.set(op.targetSeq, patchItem(target, op.patch));
      return;
    }
    if (conversation && op.seq <= conversation.last) return; // already applied: idempotent
    if (!conversation || op.seq !== conversation.last + 1) {
      // A new conversation, or a gap (its older items were dropped): the window restarts here.
      conversations.set(op.conversationId, { lo: op.seq, last: op.seq, items: new Map([[op.seq, op.item]]), lastActivityMs: op.atMs });
      return;
    }
    conversation.items.set(op.seq, op.item);
    conversation.last = op.seq;
    conversation.lastActivityMs = Math.max(conversation.lastActivityMs, op.atMs);
  }

  return {
    kind: 'memory',
    async readState() {
      return current ? { ...current.state } : null;
    },
    async reset(options = {}) {
      if (current && !options.force) return { ...current.state };
      epochs += 1;
      current = { state: { epoch: epochs, checkpoint: 0n, ready: false }, conversations: new Map(), sessions: emptySessions() };
      return { ...current.state };
    },
    async apply(expected, to, ops, maxItems, sessions) {
      if (!current || current.state.epoch !== expected.epoch || current.state.checkpoint !== expected.checkpoint) return false;
      if (sessions) writeSessions(current.sessions, sessions);
      const touched = new Set<string>();
      for (const op of ops) {
        applyOp(current.conversations, op);
        touched.add(op.conversationId);
      }
      for (const id of touched) trimTo(current.conversations.get(id)!, maxItems);
      current.state.checkpoint = to;
      return true;
    },
    async readSessionConversations(epoch, ids) {
      const found = new Map<string, HotConversationState>();
      if (!current || current.state.epoch !== epoch) return found;
      for (const c of ids) {
        const json = current.sessions.conversations.get(c);
        if (json) found.set(c, JSON.parse(json) as HotConversationState);
      }
      return found;
    },
    async readSessionMembers(epoch, plan) {
      const found: HotMembers = new Map();
      if (!current || current.state.epoch !== epoch) return found;
      for (const c of plan.allMembersOf) found.set(c, new Map(current.sessions.members.get(c) ?? []));
      for (const { conversationId: c, userId: u } of plan.namedMembers) {
        const fromSeq = current.sessions.members.get(c)?.get(u);
        if (fromSeq === undefined) continue;
        const users = found.get(c) ?? new Map<string, number | null>();
        users.set(u, fromSeq);
        found.set(c, users);
      }
      return found;
    },
    async readSessionRows(epoch, pairs) {
      const found = new Map<string, HotSessionRow>();
      if (!current || current.state.epoch !== epoch) return found;
      for (const { userId, conversationId } of pairs) {
        const json = current.sessions.rows.get(userId)?.get(conversationId);
        if (json) found.set(rowKey(userId, conversationId), JSON.parse(json) as HotSessionRow);
      }
      return found;
    },
    async readSessions(userId) {
      if (!current) return { ready: false, epoch: 0, entries: [] };
      const { sessions } = current;
      const entries = [...(sessions.rows.get(userId) ?? [])].map(([c, json]) => {
        const conversation = sessions.conversations.get(c);
        return { row: JSON.parse(json) as HotSessionRow, conversation: conversation ? (JSON.parse(conversation) as HotConversationState) : null };
      });
      return { ready: current.state.ready, epoch: current.state.epoch, entries };
    },
    async markReady(epoch) {
      if (!current || current.state.epoch !== epoch) return false;
      current.state.ready = true;
      return true;
    },
    async window(conversationId): Promise<HotRead> {
      if (!current) return { ready: false, epoch: 0, window: null };
      const conversation = current.conversations.get(conversationId);
      return { ready: current.state.ready, epoch: current.state.epoch, window: conversation ? { lo: conversation.lo, last: conversation.last } : null };
    },
    async items(epoch, conversationId, from, to) {
      if (!current || current.state.epoch !== epoch) return [];
      const conversation = current.conversations.get(conversationId);
      if (!conversation) return [];
      const found: TimelineItem[] = [];
      for (let seq = Math.max(from, conversation.lo); seq <= Math.min(to, conversation.last); seq++) found.push(conversation.items.get(seq)!);
      return found;
    },
    async page(conversationId, query) {
      const read = await this.window(conversationId);
      if (!read.ready || !read.window) return { ...read, items: [] };
      const range = pageRange(query, read.window.last);
      return { ...read, items: range ? await this.items(read.epoch, conversationId, Math.max(range.from, read.window.lo), range.to) : [] };
    },
    async evict({ maxItems, olderThanMs }: EvictOptions): Promise<EvictResult> {
      const result: EvictResult = { itemsEvicted: 0, conversationsDropped: 0 };
      if (!current) return result;
      for (const [id, conversation] of current.conversations) {
        if (conversation.lastActivityMs < olderThanMs) {
          result.itemsEvicted += conversation.items.size;
          result.conversationsDropped += 1;
          current.conversations.delete(id);
          continue;
        }
        result.itemsEvicted += trimTo(conversation, maxItems);
        // The newest item is never older than lastActivityMs, so this stops before emptying the window.
        while (conversation.lo < conversation.last && itemTimeMs(conversation.items.get(conversation.lo)!) < olderThanMs) {
          conversation.items.delete(conversation.lo);
          conversation.lo += 1;
          result.itemsEvicted += 1;
        }
      }
      return result;
    },
    async close() {},
    flush() {
      current = null;
    },
  };
}
