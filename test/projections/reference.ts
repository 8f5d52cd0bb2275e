// A naive reference for the projection tests, computed from the whole log in one pass with no
// incremental tricks: per (user, conversation) the seqs the user must receive, the unread count by
// DESIGN.md §4's definition, the read mark and membership.
import type { RecordedEvent } from '../../src/store/eventStore.js';

export interface ReferenceView {
  delivered: number[];
  unread: number;
  readMark: number;
  isMember: boolean;
  lastSeqSeen: number;
}

const key = (u: string, c: string) => `${u}|${c}`;

export function referenceViews(log: readonly RecordedEvent[]): Map<string, ReferenceView> {
  const members = new Map<string, Set<string>>();
  const messages = new Map<string, { seq: number; sender: string; recalled: boolean; audience: Set<string> }[]>();
  const delivered = new Map<string, number[]>();
  const marks = new Map<string, number>();
  for (const e of log) {
    const data = e.data as Record<string, unknown>;
    if (e.streamId.startsWith('user-')) {
      const u = e.streamId.slice(5);
      if (e.type === 'ConversationRead') {
        const k = key(u, String(data.conversationId));
        marks.set(k, Math.max(marks.get(k) ?? 0, data.seq as number));
      }
      continue;
    }
    const c = e.streamId.slice('conversation-'.length);
    const seq = e.streamPosition + 1;
    const set = members.get(c) ?? new Set<string>();
    members.set(c, set);
    const before = new Set(set);
    if (e.type === 'GroupCreated') [data.ownerId as string, ...(data.memberIds as string[])].forEach((u) => set.add(u));
    if (e.type === 'DirectConversationOpened') (data.memberIds as string[]).forEach((u) => set.add(u));
    if (e.type === 'MembersAdded') (data.userIds as string[]).forEach((u) => set.add(u));
    if (e.type === 'MemberRemoved' || e.type === 'MemberLeft') set.delete(data.userId as string);
    if (e.type === 'MessageSent') {
      const list = messages.get(c) ?? [];
      list.push({ seq, sender: data.senderId as string, recalled: false, audience: before });
      messages.set(c, list);
    }
    if (e.type === 'MessageRecalled') {
      const target = messages.get(c)?.find((m) => m.seq === data.seq);
      if (target) target.recalled = true;
    }
    for (const u of new Set([...before, ...set])) {
      const list = delivered.get(key(u, c)) ?? [];
      list.push(seq);
      delivered.set(key(u, c), list);
    }
  }
  const views = new Map<string, ReferenceView>();
  for (const [k, seqs] of delivered) {
    const [u, c] = k.split('|') as [string, string];
    const mark = marks.get(k) ?? 0;
    const unread = (messages.get(c) ?? []).filter((m) => m.sender !== u && !m.recalled && m.seq > mark && m.audience.has(u)).length;
    views.set(k, { delivered: seqs, unread, readMark: mark, isMember: members.get(c)!.has(u), lastSeqSeen: seqs.at(-1) ?? 0 });
  }
  return views;
}

export const viewKey = key;
