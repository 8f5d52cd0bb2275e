// The pure part of the sessions projection: folds one batch over the loaded conversation heads and
// session rows, and says which unread counters change and how (an increment, a recount from the
// message index, or a switch to/from counting at read time for read fan-out groups).
import type { MessageKind } from '../../domain/events.js';
import type { OrderedFact } from '../fold/batchFacts.js';
import { previewOf, timelineItemOf, type ConversationFact } from '../fold/eventFacts.js';
import type { FanoutMode, MembershipTracker } from '../fold/membershipFold.js';
import type { ConversationKind, MessagePreview } from '../types.js';

export interface SessionConversation {
  conversationId: string;
  kind: ConversationKind;
  name: string | null;
  /** The pair of a direct conversation (its title is the peer). */
  directMembers: string[] | null;
  lastSeq: number;
  lastMessage: MessagePreview | null;
  updatedAt: string | null;
  dissolved: boolean;
}

/** What a departed member last saw: their row shows this instead of the live heads. */
export interface FrozenHeads {
  name: string | null;
  lastSeq: number;
  lastMessage: MessagePreview | null;
  updatedAt: string | null;
}

export interface SessionMemberRow {
  userId: string;
  conversationId: string;
  active: boolean;
  lastReadSeq: number;
  muted: boolean;
  pinned: boolean;
  hidden: boolean;
  frozen: FrozenHeads | null;
  /** Not stored yet: inserted with a fresh counter. */
  isNew: boolean;
}

export interface SessionsBatchInput {
  ordered: readonly OrderedFact[];
  /** Stored heads of the batch's conversations (missing: not seen yet). */
  conversations: Map<string, SessionConversation>;
  /** Stored rows the batch touches, by rowKey (missing: not stored yet). */
  rows: Map<string, SessionMemberRow>;
  /** Stored fan-out mode per conversation at the start of the batch. */
  startModes: Map<string, FanoutMode>;
  tracker: MembershipTracker;
}

export interface SessionsBatchResult {
  conversations: SessionConversation[];
  rows: SessionMemberRow[];
  /** Mode of each known conversation at the end of the batch (rows of read-mode ones count lazily). */
  endModes: Map<string, FanoutMode>;
  newMessages: { conversation_id: string; seq: number; sender_id: string; recalled: boolean }[];
  /** Recalls of messages stored by earlier batches. */
  storedRecalls: { c: string; s: number }[];
  /** Recalls of stored messages whose counted unread must be decremented row by row. */
  decrementRecalls: { c: string; s: number }[];
  increments: { u: string; c: string; n: number }[];
  recountRows: { u: string; c: string }[];
  /** Write-mode at the end but read mode somewhere in the batch: every row is recounted. */
  recountConversations: string[];
  /** Entered read mode in this batch: stored counters are dropped (counted at read time from now on). */
  lazyConversations: string[];
}

export const rowKey = (userId: string, conversationId: string): string => `${userId}\u0000${conversationId}`;

function newConversation(conversationId: string): SessionConversation {
  return { conversationId, kind: 'group', name: null, directMembers: null, lastSeq: 0, lastMessage: null, updatedAt: null, dissolved: false };
}

/** Updates a conversation's heads for one of its events (before membership is looked at). */
function applyHeads(conversation: SessionConversation, fact: ConversationFact): void {
  conversation.lastSeq = fact.seq;
  conversation.updatedAt = fact.at;
  const { data } = fact;
  switch (fact.type) {
    case 'DirectConversationOpened':
      conversation.kind = 'direct';
      conversation.directMembers = Array.isArray(data.memberIds) ? data.memberIds.map(String) : [];
      return;
    case 'GroupCreated':
    case 'GroupRenamed':
      if (fact.type === 'GroupCreated') conversation.kind = 'group';
      conversation.name = String(data.name ?? conversation.name ?? '');
      return;
    case 'GroupDissolved':
      conversation.dissolved = true;
      return;
    case 'MessageSent': {
      const item = timelineItemOf(fact);
      if (item.kind !== 'system') conversation.lastMessage = previewOf(item);
      return;
    }
    case 'MessageEdited':
    case 'MessageRecalled': {
      const last = conversation.lastMessage;
      if (!last || last.seq !== data.seq || last.recalled) return;
      const base = { messageId: last.messageId, seq: last.seq, senderId: last.senderId, sentAt: '', kind: last.kind as MessageKind };
      conversation.lastMessage =
        fact.type === 'MessageRecalled'
          ? previewOf({ ...base, body: {}, recalled: true })
          : previewOf({ ...base, body: (data.body ?? {}) as Record<string, unknown> });
      return;
    }
    default:
      return;
  }
}

export function foldSessionsBatch(input: SessionsBatchInput): SessionsBatchResult {
  const { tracker, startModes } = input;
  const conversations = new Map<string, SessionConversation>();
  const rows = new Map<string, SessionMemberRow>();
  const passedRead = new Set<string>();
  for (const [c, mode] of startModes) if (mode === 'read') passedRead.add(c);
  const newMessages = new Map<string, SessionsBatchResult['newMessages'][number]>();
  const storedRecalls = new Map<string, { c: string; s: number }>();
  const increments = new Map<string, number>();
  const recount = new Set<string>();
  /** Current member list per conversation, shared by the messages sent while it holds. */
  const memberLists = new Map<string, string[]>();
  /** Who had an in-batch message counted (to undo it if the message is recalled in the same batch). */
  const countedFor = new Map<string, string[]>();

  const conversationOf = (id: string): SessionConversation => {
    let c = conversations.get(id);
    if (!c) {
      c = { ...(input.conversations.get(id) ?? newConversation(id)) };
      conversations.set(id, c);
    }
    return c;
  };
  const rowOf = (userId: string, conversationId: string): SessionMemberRow => {
    const key = rowKey(userId, conversationId);
    let row = rows.get(key);
    if (!row) {
      const stored = input.rows.get(key);
      row = stored
        ? { ...stored }
        : { userId, conversationId, active: false, lastReadSeq: 0, muted: false, pinned: false, hidden: false, frozen: null, isNew: true };
      rows.set(key, row);
    }
    return row;
  };
  const addIncrement = (userId: string, conversationId: string, n: number) => {
    const key = rowKey(userId, conversationId);
    increments.set(key, (increments.get(key) ?? 0) + n);
  };

  for (const entry of input.ordered) {
    if (entry.stream === 'user') {
      const { fact } = entry;
      const row = rowOf(fact.userId, fact.conversationId);
      if (fact.type === 'ConversationRead') {
        const asked = typeof fact.data.seq === 'number' ? fact.data.seq : 0;
        const known = conversations.get(fact.conversationId) ?? input.conversations.get(fact.conversationId);
        // Defensive: the domain already clamps and never lowers a mark; a replayed or stale one is a no-op.
        const mark = Math.max(row.lastReadSeq, known ? Math.min(asked, known.lastSeq) : asked);
        if (mark !== row.lastReadSeq) recount.add(rowKey(fact.userId, fact.conversationId));
        row.lastReadSeq = mark;
      } else {
        for (const setting of ['muted', 'pinned', 'hidden'] as const) {
          const value = fact.data[setting];
          if (typeof value === 'boolean') row[setting] = value;
        }
      }
      continue;
    }
    const { fact } = entry;
    const conversation = conversationOf(fact.conversationId);
    applyHeads(conversation, fact);
    const step = tracker.apply(fact);
    if (step.mode === 'read') passedRead.add(fact.conversationId);
    if (step.joined.length + step.departed.length > 0) memberLists.delete(fact.conversationId);
    for (const userId of step.joined) {
      const row = rowOf(userId, fact.conversationId);
      row.active = true;
      row.frozen = null;
    }
    for (const userId of step.departed) {
      const row = rowOf(userId, fact.conversationId);
      row.active = false;
      row.frozen = { name: conversation.name, lastSeq: conversation.lastSeq, lastMessage: conversation.lastMessage, updatedAt: conversation.updatedAt };
    }
    const messageKey = `${fact.conversationId}\u0000${fact.seq}`;
    if (fact.type === 'MessageSent') {
      const senderId = String(fact.data.senderId);
      newMessages.set(messageKey, { conversation_id: fact.conversationId, seq: fact.seq, sender_id: senderId, recalled: false });
      if (passedRead.has(fact.conversationId)) continue;
      let members = memberLists.get(fact.conversationId);
      if (!members) {
        members = tracker.members(fact.conversationId);
        memberLists.set(fact.conversationId, members);
      }
      for (const userId of members) if (userId !== senderId) addIncrement(userId, fact.conversationId, 1);
      countedFor.set(messageKey, members);
    } else if (fact.type === 'MessageRecalled' && typeof fact.data.seq === 'number') {
      const targetKey = `${fact.conversationId}\u0000${fact.data.seq}`;
      const fresh = newMessages.get(targetKey);
      if (!fresh) {
        storedRecalls.set(targetKey, { c: fact.conversationId, s: fact.data.seq });
      } else if (!fresh.recalled) {
        fresh.recalled = true;
        for (const userId of countedFor.get(targetKey) ?? []) if (userId !== fresh.sender_id) addIncrement(userId, fact.conversationId, -1);
      }
    }
  }

  const endModes = new Map<string, FanoutMode>(startModes);
  for (const c of tracker.touched()) endModes.set(c.conversationId, c.mode ?? 'write');
  const endsInWrite = (c: string) => (endModes.get(c) ?? 'write') === 'write';
  /** Counters kept incrementally: write mode all along. */
  const incremental = (c: string) => endsInWrite(c) && !passedRead.has(c);
  const split = (key: string) => {
    const [u, c] = key.split('\u0000') as [string, string];
    return { u, c };
  };

  return {
    conversations: [...conversations.values()],
    rows: [...rows.values()],
    endModes,
    newMessages: [...newMessages.values()],
    storedRecalls: [...storedRecalls.values()],
    decrementRecalls: [...storedRecalls.values()].filter((r) => incremental(r.c)),
    increments: [...increments]
      .filter(([key, n]) => n !== 0 && !recount.has(key) && incremental(split(key).c))
      .map(([key, n]) => ({ ...split(key), n })),
    recountRows: [...recount].map(split).filter((r) => incremental(r.c)),
    recountConversations: [...passedRead].filter((c) => endModes.has(c) && endsInWrite(c)),
    lazyConversations: [...endModes].filter(([c, mode]) => mode === 'read' && startModes.get(c) !== 'read').map(([c]) => c),
  };
}
