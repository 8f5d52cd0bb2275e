// The test oracle: what every projection must show, computed directly from the recorded log by plain,
// deliberately naive code (whole-log scans, replays from the start, no incremental state). It shares
// nothing with src/projections, so a bug there cannot hide behind the same bug here. DESIGN.md §4
// defines unread; src/projections/README.md fixes the rest (who receives what, frozen rows of
// departed members, which conversations count in the total).
import type { MemberRole, MessageBody, MessageKind } from '../../src/domain/events.js';
import type { RecordedEvent } from '../../src/store/eventStore.js';

export type ConversationKind = 'direct' | 'group';
type Data = Record<string, unknown>;

/** One conversation event as recorded. */
export interface OracleEvent {
  seq: number;
  type: string;
  data: Data;
  actorId: string;
  globalPosition: bigint;
  /** The event's own time field (sentAt, addedAt, ...). */
  at: string;
}

export interface OracleMessage {
  kind: 'message';
  seq: number;
  messageId: string;
  senderId: string;
  messageKind: MessageKind;
  /** The body after the edits applied so far. */
  body: MessageBody;
  sentAt: string;
  editedAt?: string;
  recalled: boolean;
}

export interface OracleSystemItem {
  kind: 'system';
  seq: number;
  event: string;
  actorId: string;
  data: Data;
  at: string;
}

export type OracleItem = OracleMessage | OracleSystemItem;

export interface OracleConversation {
  conversationId: string;
  kind: ConversationKind;
  events: OracleEvent[];
  lastSeq: number;
  /** The group name now; null for a direct conversation. */
  name: string | null;
  dissolved: boolean;
  /** Current members and their roles. */
  members: Map<string, MemberRole>;
  /** items[seq - 1]: the timeline now, one item per seq, edits and recalls applied. */
  items: OracleItem[];
}

/** What one user sees of one conversation they belong, or once belonged, to. */
export interface OracleSession {
  conversationId: string;
  kind: ConversationKind;
  /** Currently a member (README: departed rows stay, frozen, `active: false`). */
  isMember: boolean;
  /** Group name as of the last item the user received; for a direct conversation, the peer. */
  title: string;
  /** The last seq the user received (for a current member, the conversation's last seq). */
  lastSeq: number;
  /** The conversation's last MessageSent as of lastSeq (edits and recalls up to then), if any. */
  lastMessage: OracleMessage | null;
  /** The time of the last conversation event the user received. */
  updatedAt: string;
  readMark: number;
  /** DESIGN.md §4, exactly. */
  unread: number;
  /** Whether the group is dissolved now (not frozen for a departed member). */
  dissolved: boolean;
  settings: { muted: boolean; pinned: boolean; hidden: boolean };
}

/** Something a user's sync must deliver exactly once. */
export type OracleSyncItem =
  | { type: 'item'; conversationId: string; seq: number; event: string; globalPosition: bigint }
  | { type: 'read'; conversationId: string; seq: number; deviceId: string; globalPosition: bigint }
  | { type: 'settings'; conversationId: string; changes: Data; globalPosition: bigint };

export interface OracleUser {
  userId: string;
  /** Every conversation the user ever belonged to. */
  sessions: Map<string, OracleSession>;
  /** Everything the user's sync delivers, in global order. */
  syncItems: OracleSyncItem[];
}

export interface Oracle {
  conversations: Map<string, OracleConversation>;
  users: Map<string, OracleUser>;
}

const CONVERSATION_PREFIX = 'conversation-';
const USER_PREFIX = 'user-';

/** The data field that holds each event's own time. */
const TIME_FIELDS: Record<string, string> = {
  DirectConversationOpened: 'openedAt',
  GroupCreated: 'createdAt',
  GroupRenamed: 'renamedAt',
  MembersAdded: 'addedAt',
  MemberRemoved: 'removedAt',
  MemberLeft: 'leftAt',
  MemberRoleChanged: 'changedAt',
  GroupDissolved: 'dissolvedAt',
  MessageSent: 'sentAt',
  MessageEdited: 'editedAt',
  MessageRecalled: 'recalledAt',
};

/** Builds the oracle from the whole log, in global order. */
export function computeOracle(log: readonly RecordedEvent[]): Oracle {
  const eventsByConversation = new Map<string, OracleEvent[]>();
  const userEvents: Array<{ userId: string; event: RecordedEvent }> = [];
  for (const event of log) {
    if (event.streamId.startsWith(CONVERSATION_PREFIX)) {
      const conversationId = event.streamId.slice(CONVERSATION_PREFIX.length);
      const list = eventsByConversation.get(conversationId) ?? [];
      eventsByConversation.set(conversationId, list);
      const data = event.data as Data;
      const seq = event.streamPosition + 1;
      if (seq !== list.length + 1) throw new Error(`oracle: ${event.streamId} seq ${seq} follows seq ${list.length}`);
      list.push({ seq, type: event.type, data, actorId: event.metadata.actorId, globalPosition: event.globalPosition, at: data[TIME_FIELDS[event.type]!] as string });
    } else if (event.streamId.startsWith(USER_PREFIX)) {
      userEvents.push({ userId: event.streamId.slice(USER_PREFIX.length), event });
    }
  }

  const conversations = new Map<string, OracleConversation>();
  for (const [conversationId, events] of eventsByConversation) conversations.set(conversationId, conversationAsOf(conversationId, events, events.length));

  const users = new Map<string, OracleUser>();
  const userOf = (userId: string): OracleUser => {
    let user = users.get(userId);
    if (!user) {
      user = { userId, sessions: new Map(), syncItems: [] };
      users.set(userId, user);
    }
    return user;
  };

  for (const [conversationId, events] of eventsByConversation) {
    for (const userId of everMembers(conversationId, events)) {
      const delivered = deliveredSeqs(conversationId, events, userId);
      const user = userOf(userId);
      for (const seq of delivered) {
        const event = events[seq - 1]!;
        user.syncItems.push({ type: 'item', conversationId, seq, event: event.type, globalPosition: event.globalPosition });
      }
      const readMark = readMarkOf(userEvents, userId, conversationId);
      user.sessions.set(conversationId, sessionOf(conversationId, events, userId, delivered, readMark, settingsOf(userEvents, userId, conversationId)));
    }
  }

  // A user's own read marks and settings changes reach all their devices, whatever the fan-out mode.
  for (const { userId, event } of userEvents) {
    const data = event.data as Data;
    const conversationId = data.conversationId as string;
    if (event.type === 'ConversationRead') {
      userOf(userId).syncItems.push({ type: 'read', conversationId, seq: data.seq as number, deviceId: data.deviceId as string, globalPosition: event.globalPosition });
    } else if (event.type === 'ConversationSettingsChanged') {
      const { conversationId: _ignored, changedAt: _at, ...changes } = data;
      userOf(userId).syncItems.push({ type: 'settings', conversationId, changes, globalPosition: event.globalPosition });
    }
  }
  for (const user of users.values()) user.syncItems.sort((a, b) => (a.globalPosition < b.globalPosition ? -1 : a.globalPosition > b.globalPosition ? 1 : 0));
  return { conversations, users };
}

/** The conversation as it was once its first `uptoSeq` events were applied: a replay from seq 1. */
export function conversationAsOf(conversationId: string, events: readonly OracleEvent[], uptoSeq: number): OracleConversation {
  const conversation: OracleConversation = {
    conversationId,
    kind: 'group',
    events: [...events],
    lastSeq: 0,
    name: null,
    dissolved: false,
    members: new Map(),
    items: [],
  };
  for (const event of events.slice(0, uptoSeq)) {
    applyEvent(conversation, event);
    conversation.lastSeq = event.seq;
  }
  return conversation;
}

function applyEvent(conversation: OracleConversation, event: OracleEvent): void {
  const { members } = conversation;
  const data = event.data;
  if (event.type === 'MessageSent') {
    conversation.items.push({
      kind: 'message',
      seq: event.seq,
      messageId: data.messageId as string,
      senderId: data.senderId as string,
      messageKind: data.kind as MessageKind,
      body: data.body as MessageBody,
      sentAt: data.sentAt as string,
      recalled: false,
    });
    return;
  }
  conversation.items.push({ kind: 'system', seq: event.seq, event: event.type, actorId: event.actorId, data, at: event.at });
  switch (event.type) {
    case 'DirectConversationOpened':
      conversation.kind = 'direct';
      for (const userId of data.memberIds as string[]) members.set(userId, 'member');
      break;
    case 'GroupCreated':
      conversation.kind = 'group';
      conversation.name = data.name as string;
      for (const userId of data.memberIds as string[]) members.set(userId, 'member');
      members.set(data.ownerId as string, 'owner');
      break;
    case 'GroupRenamed':
      conversation.name = data.name as string;
      break;
    case 'MembersAdded':
      for (const userId of data.userIds as string[]) if (!members.has(userId)) members.set(userId, 'member');
      break;
    case 'MemberRemoved':
    case 'MemberLeft':
      members.delete(data.userId as string);
      break;
    case 'MemberRoleChanged':
      members.set(data.userId as string, data.role as MemberRole);
      break;
    case 'GroupDissolved':
      conversation.dissolved = true;
      break;
    case 'MessageEdited': {
      const target = messageById(conversation, data.messageId as string);
      // A recall is final: the domain refuses to edit a recalled message, and nothing undoes a recall.
      if (!target.recalled) {
        target.body = data.body as MessageBody;
        target.editedAt = data.editedAt as string;
      }
      break;
    }
    case 'MessageRecalled':
      messageById(conversation, data.messageId as string).recalled = true;
      break;
    default:
      throw new Error(`oracle: unknown conversation event ${event.type}`);
  }
}

function messageById(conversation: OracleConversation, messageId: string): OracleMessage {
  const found = conversation.items.find((i): i is OracleMessage => i.kind === 'message' && i.messageId === messageId);
  if (!found) throw new Error(`oracle: ${conversation.conversationId} changes unknown message ${messageId}`);
  return found;
}

/** Members before and after the event at `seq`. */
function membersAround(conversationId: string, events: readonly OracleEvent[], seq: number): { before: Set<string>; after: Set<string> } {
  return {
    before: new Set(conversationAsOf(conversationId, events, seq - 1).members.keys()),
    after: new Set(conversationAsOf(conversationId, events, seq).members.keys()),
  };
}

function everMembers(conversationId: string, events: readonly OracleEvent[]): Set<string> {
  const users = new Set<string>();
  for (const event of events) for (const userId of membersAround(conversationId, events, event.seq).after) users.add(userId);
  return users;
}

/**
 * The seqs an item of which reaches `userId`: those that happened while the user was a member, i.e.
 * the user was a member just before the event (so their own removal or leave reaches them) or just
 * after it (so the GroupCreated or MembersAdded that brought them in does).
 */
function deliveredSeqs(conversationId: string, events: readonly OracleEvent[], userId: string): number[] {
  const seqs: number[] = [];
  for (const event of events) {
    const { before, after } = membersAround(conversationId, events, event.seq);
    if (before.has(userId) || after.has(userId)) seqs.push(event.seq);
  }
  return seqs;
}

/**
 * DESIGN.md §4: the MessageSent in c, not sent by u, not recalled, with seq above u's read mark,
 * sent while u was a member.
 */
function unreadByDefinition(conversationId: string, events: readonly OracleEvent[], userId: string, readMark: number): number {
  const now = conversationAsOf(conversationId, events, events.length);
  let unread = 0;
  for (const item of now.items) {
    if (item.kind !== 'message') continue;
    if (item.senderId === userId) continue;
    if (item.recalled) continue;
    if (item.seq <= readMark) continue;
    if (!membersAround(conversationId, events, item.seq).before.has(userId)) continue;
    unread++;
  }
  return unread;
}

/** The highest mark the user's ConversationRead events set (the domain never writes a lower one). */
function readMarkOf(userEvents: ReadonlyArray<{ userId: string; event: RecordedEvent }>, userId: string, conversationId: string): number {
  let mark = 0;
  for (const { userId: owner, event } of userEvents) {
    const data = event.data as Data;
    if (owner === userId && event.type === 'ConversationRead' && data.conversationId === conversationId) mark = Math.max(mark, data.seq as number);
  }
  return mark;
}

function settingsOf(userEvents: ReadonlyArray<{ userId: string; event: RecordedEvent }>, userId: string, conversationId: string) {
  const settings = { muted: false, pinned: false, hidden: false };
  for (const { userId: owner, event } of userEvents) {
    const data = event.data as Data;
    if (owner !== userId || event.type !== 'ConversationSettingsChanged' || data.conversationId !== conversationId) continue;
    for (const name of ['muted', 'pinned', 'hidden'] as const) if (typeof data[name] === 'boolean') settings[name] = data[name];
  }
  return settings;
}

function sessionOf(
  conversationId: string,
  events: readonly OracleEvent[],
  userId: string,
  delivered: readonly number[],
  readMark: number,
  settings: OracleSession['settings'],
): OracleSession {
  const lastSeq = delivered.at(-1)!;
  // README: a departed member's row is frozen as of the departure event (what they last saw).
  const asSeen = conversationAsOf(conversationId, events, lastSeq);
  const now = conversationAsOf(conversationId, events, events.length);
  // README: a row shows the conversation's heads (its last message, even one sent before the user
  // joined), a departed member's as of their departure.
  const messagesAsSeen = asSeen.items.filter((i): i is OracleMessage => i.kind === 'message');
  const peer = [...everMembers(conversationId, events)].find((m) => m !== userId) ?? '';
  return {
    conversationId,
    kind: now.kind,
    isMember: now.members.has(userId),
    title: now.kind === 'direct' ? peer : asSeen.name!,
    lastSeq,
    lastMessage: messagesAsSeen.at(-1) ?? null,
    updatedAt: events[lastSeq - 1]!.at,
    readMark,
    unread: unreadByDefinition(conversationId, events, userId, readMark),
    dissolved: now.dissolved,
    settings,
  };
}

/** README: the total sums the conversations the user is currently a member of. */
export function unreadTotalOf(user: OracleUser | undefined): number {
  let total = 0;
  for (const session of user?.sessions.values() ?? []) if (session.isMember) total += session.unread;
  return total;
}

/** README: the session list shows active and departed rows, newest activity first, then id descending. */
export function sessionListOf(user: OracleUser | undefined): OracleSession[] {
  return [...(user?.sessions.values() ?? [])].sort((a, b) =>
    a.updatedAt !== b.updatedAt ? (a.updatedAt < b.updatedAt ? 1 : -1) : a.conversationId < b.conversationId ? 1 : a.conversationId > b.conversationId ? -1 : 0,
  );
}
