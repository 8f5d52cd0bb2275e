// The contract every HotStore adapter passes (memory, Redis): one suite, run by each adapter's spec
// file. Store-agnostic: only the port. Conversation ids are unique per test, so a subject may share
// its storage with other tests as long as its key prefix is its own.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HotOp, HotState, HotStore } from '../../src/tiers/hotStore.js';
import type { MessageItem, TimelineItem } from '../../src/projections/types.js';
import type { HotConversationState, HotSessionRow, HotSessionWrites } from '../../src/tiers/hotSessions.js';
import { rowKey } from '../../src/projections/sessions/sessionsFold.js';

export interface HotContractSubject {
  hot: HotStore;
  dispose(): Promise<void>;
}

const T0 = Date.parse('2026-11-01T00:00:00.000Z');
const MINUTE = 60_000;

export function message(seq: number, atMs = T0 + seq * MINUTE, body: Record<string, unknown> = { text: `m${seq}` }): MessageItem {
  return { messageId: `msg-${seq}`, seq, senderId: 'ann', kind: 'text', body, sentAt: new Date(atMs).toISOString() };
}

export const put = (conversationId: string, item: TimelineItem): HotOp => ({
  op: 'put',
  conversationId,
  seq: item.seq,
  item,
  atMs: Date.parse(item.kind === 'system' ? item.at : item.sentAt),
});

const seqsOf = (items: readonly TimelineItem[]) => items.map((i) => i.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

export function describeHotStoreContract(name: string, setup: () => Promise<HotContractSubject>): void {
  describe(`HotStore contract: ${name}`, () => {
    let subject: HotContractSubject;
    let hot: HotStore;
    let c: string;

    beforeEach(async () => {
      subject = await setup();
      hot = subject.hot;
      c = `c-${randomUUID()}`;
    });
    afterEach(async () => subject.dispose());

    /** Applies ops from the current state to `to`, asserting the CAS succeeded. */
    async function applyOps(ops: HotOp[], maxItems = 200): Promise<HotState> {
      const state = (await hot.readState()) ?? (await hot.reset());
      const to = state.checkpoint + 1n;
      expect(await hot.apply(state, to, ops, maxItems)).toBe(true);
      return { ...state, checkpoint: to };
    }

    it('has no state until reset, then an empty epoch at checkpoint 0 that is not ready', async () => {
      expect(await hot.readState()).toBeNull();
      expect((await hot.window(c)).ready).toBe(false);
      const state = await hot.reset();
      expect(state).toMatchObject({ checkpoint: 0n, ready: false });
      expect(await hot.reset()).toEqual(state); // a second reset without force keeps the state in force
      expect(await hot.markReady(state.epoch)).toBe(true);
      expect(await hot.readState()).toMatchObject({ epoch: state.epoch, ready: true });
      expect(await hot.markReady(state.epoch + 1)).toBe(false);
    });

    it('applies ops and the checkpoint together, by compare-and-set', async () => {
      const state = await hot.reset();
      expect(await hot.apply(state, 10n, [put(c, message(1)), put(c, message(2))], 200)).toBe(true);
      // The same batch again (a retry, or a second worker): refused, nothing changes.
      expect(await hot.apply(state, 10n, [put(c, message(3))], 200)).toBe(false);
      expect(await hot.apply({ ...state, epoch: state.epoch + 1, checkpoint: 10n }, 11n, [put(c, message(3))], 200)).toBe(false);
      expect(await hot.readState()).toMatchObject({ epoch: state.epoch, checkpoint: 10n });
      const read = await hot.window(c);
      expect(read.window).toEqual({ lo: 1, last: 2 });
      expect(seqsOf(await hot.items(read.epoch, c, 1, 100))).toEqual([1, 2]);
    });

    it('a put at or below the last seq changes nothing (idempotent)', async () => {
      await applyOps([put(c, message(1)), put(c, message(2))]);
      await applyOps([put(c, message(2, T0, { text: 'other' })), put(c, message(1, T0, { text: 'other' }))]);
      const { epoch } = await hot.window(c);
      expect((await hot.items(epoch, c, 1, 2)).map((i) => (i as MessageItem).body)).toEqual([{ text: 'm1' }, { text: 'm2' }]);
    });

    it('serves ranges ascending, clipped to the window, items verbatim', async () => {
      const odd: MessageItem = { ...message(1), body: { list: [], nested: { n: 1.25, big: 12345678901234567 }, text: 'é ✓ "q"' } };
      const system: TimelineItem = { seq: 2, kind: 'system', event: 'GroupRenamed', actorId: 'ann', data: { name: 'x', ids: [] }, at: new Date(T0).toISOString() };
      await applyOps([put(c, odd), put(c, system), ...range(3, 9).map((s) => put(c, message(s)))]);
      const { epoch } = await hot.window(c);
      const all = await hot.items(epoch, c, 0, 1000);
      expect(seqsOf(all)).toEqual(range(1, 9));
      expect(all[0]).toEqual(odd);
      expect(all[1]).toEqual(system);
      expect(seqsOf(await hot.items(epoch, c, 4, 6))).toEqual([4, 5, 6]);
      expect(await hot.items(epoch, c, 6, 4)).toEqual([]);
      expect(await hot.items(epoch + 1, c, 1, 9)).toEqual([]);
      expect(await hot.items(epoch, `other-${c}`, 1, 9)).toEqual([]);
    });

    it('page: the part of a history page the window holds, in one read; nothing before ready', async () => {
      const state = await applyOps(range(1, 30).map((s) => put(c, message(s))), 20);
      expect(await hot.page(c, { limit: 5 })).toMatchObject({ ready: false, window: { lo: 11, last: 30 }, items: [] });
      await hot.markReady(state.epoch);
      const edit: HotOp = { op: 'patch', conversationId: c, targetSeq: 29, patch: { body: { text: 'edited' }, editedAt: new Date(T0).toISOString() } };
      await applyOps([edit], 20);
      const pageSeqs = async (q: { before?: number; after?: number; limit: number }) => seqsOf((await hot.page(c, q)).items);
      expect(await pageSeqs({ limit: 5 })).toEqual([26, 27, 28, 29, 30]);
      expect(await pageSeqs({ before: 14, limit: 5 })).toEqual([11, 12, 13]); // clipped to the window
      expect(await pageSeqs({ before: 11, limit: 5 })).toEqual([]);
      expect(await pageSeqs({ after: 27, limit: 5 })).toEqual([28, 29, 30]);
      expect(await pageSeqs({ after: 5, limit: 10 })).toEqual([11, 12, 13, 14, 15]);
      expect(await pageSeqs({ after: 12, before: 15, limit: 10 })).toEqual([13, 14]);
      expect(await pageSeqs({ after: 30, limit: 10 })).toEqual([]);
      expect((await hot.page(c, { after: 28, limit: 1 })).items).toEqual([{ ...message(29), body: { text: 'edited' }, editedAt: new Date(T0).toISOString() }]);
      expect(await hot.page(`none-${c}`, { limit: 5 })).toMatchObject({ ready: true, window: null, items: [] });
    });

    it('keeps the newest maxItems per conversation: the window is always contiguous', async () => {
      await applyOps(range(1, 10).map((s) => put(c, message(s))), 4);
      expect((await hot.window(c)).window).toEqual({ lo: 7, last: 10 });
      await applyOps([put(c, message(11))], 4);
      const { epoch, window } = await hot.window(c);
      expect(window).toEqual({ lo: 8, last: 11 });
      expect(seqsOf(await hot.items(epoch, c, 1, 100))).toEqual([8, 9, 10, 11]);
    });

    it('applies edits and recalls to held items, in log order; a recall is final', async () => {
      const edit = (seq: number, text: string, at: number): HotOp => ({ op: 'patch', conversationId: c, targetSeq: seq, patch: { body: { text }, editedAt: new Date(at).toISOString() } });
      const recall = (seq: number): HotOp => ({ op: 'patch', conversationId: c, targetSeq: seq, patch: { body: {}, recalled: true } });
      await applyOps([put(c, message(1)), put(c, message(2)), put(c, message(3)), edit(1, 'one', T0 + 5)]);
      await applyOps([edit(1, 'uno', T0 + 6), recall(2), edit(2, 'too late', T0 + 7), edit(3, 'three', T0 + 8), recall(3), edit(99, 'absent', T0)]);
      const { epoch } = await hot.window(c);
      const [one, two, three] = (await hot.items(epoch, c, 1, 3)) as MessageItem[];
      expect(one).toMatchObject({ body: { text: 'uno' }, editedAt: new Date(T0 + 6).toISOString() });
      expect(two).toEqual({ ...message(2), body: {}, recalled: true });
      expect(three).toEqual({ ...message(3), body: {}, recalled: true, editedAt: new Date(T0 + 8).toISOString() });
      expect((await hot.window(c)).window).toEqual({ lo: 1, last: 3 });
    });

    it('a put after a gap restarts the window there', async () => {
      await applyOps([put(c, message(1)), put(c, message(2)), put(c, message(5))]);
      const { epoch, window } = await hot.window(c);
      expect(window).toEqual({ lo: 5, last: 5 });
      expect(seqsOf(await hot.items(epoch, c, 1, 10))).toEqual([5]);
    });

    it('evicts by age and by count, and drops conversations idle past the age', async () => {
      const idle = `idle-${c}`;
      await applyOps([...range(1, 10).map((s) => put(c, message(s))), put(idle, message(1, T0 - 10 * MINUTE))]);
      const result = await hot.evict({ maxItems: 8, olderThanMs: T0 + 5 * MINUTE });
      // c: count keeps 3..10, age drops 3 and 4 (sent before T0 + 5 min); idle: dropped entirely.
      const { epoch, window } = await hot.window(c);
      expect(window).toEqual({ lo: 5, last: 10 });
      expect(seqsOf(await hot.items(epoch, c, 1, 100))).toEqual(range(5, 10));
      expect((await hot.window(idle)).window).toBeNull();
      expect(result.conversationsDropped).toBeGreaterThanOrEqual(1);
      expect(result.itemsEvicted).toBeGreaterThanOrEqual(5);
      // Age never empties an active window: the last item stays even when old.
      await hot.evict({ maxItems: 8, olderThanMs: T0 + 9.5 * MINUTE });
      expect((await hot.window(c)).window).toEqual({ lo: 10, last: 10 });
    });

    it('a forced reset starts a new empty epoch; the old one is unreadable and refuses writes', async () => {
      const old = await applyOps([put(c, message(1))]);
      const fresh = await hot.reset({ force: true });
      expect(fresh.epoch).not.toBe(old.epoch);
      expect(fresh).toMatchObject({ checkpoint: 0n, ready: false });
      expect((await hot.window(c)).window).toBeNull();
      expect(await hot.items(old.epoch, c, 1, 1)).toEqual([]);
      expect(await hot.apply(old, 5n, [put(c, message(2))], 200)).toBe(false);
    });

    it('gives every forced reset a new epoch, even several within one millisecond', async () => {
      const epochs: number[] = [];
      for (let i = 0; i < 20; i++) epochs.push((await hot.reset({ force: true })).epoch);
      for (let i = 1; i < epochs.length; i++) expect(epochs[i]).toBeGreaterThan(epochs[i - 1]!);
    });

    describe('session state', () => {
      const conversation = (lastSeq: number): HotConversationState => ({
        heads: { conversationId: c, kind: 'group', name: 'g', directMembers: null, lastSeq, lastMessage: null, updatedAt: new Date(T0).toISOString(), dissolved: false },
        memberCount: 2,
        mode: 'write',
      });
      const row = (userId: string, unread: number[] | null): HotSessionRow => ({
        userId, conversationId: c, active: true, lastReadSeq: 0, muted: false, pinned: false, hidden: false, frozen: null, unread,
      });
      const writes = (lastSeq: number, unread: number[] | null): HotSessionWrites => ({
        conversations: [conversation(lastSeq)],
        members: [{ conversationId: c, userId: 'ann', fromSeq: 1 }, { conversationId: c, userId: 'bob', fromSeq: null }],
        rows: [row('ann', unread)],
      });

      it('writes conversations, members and rows with the checkpoint, by compare-and-set', async () => {
        const state = await hot.reset();
        expect(await hot.apply(state, 1n, [], 200, writes(3, [2, 3]))).toBe(true);
        expect(await hot.apply(state, 2n, [], 200, writes(9, [9]))).toBe(false); // stale: nothing written
        expect(await hot.readSessionConversations(state.epoch, [c, 'absent'])).toEqual(new Map([[c, conversation(3)]]));
        expect(await hot.readSessionMembers(state.epoch, { allMembersOf: [c], namedMembers: [] })).toEqual(new Map([[c, new Map([['ann', 1], ['bob', null]])]]));
        expect(await hot.readSessionMembers(state.epoch, { allMembersOf: [], namedMembers: [{ conversationId: c, userId: 'bob' }, { conversationId: c, userId: 'zed' }] })).toEqual(
          new Map([[c, new Map([['bob', null]])]]),
        );
        expect(await hot.readSessionRows(state.epoch, [{ userId: 'ann', conversationId: c }, { userId: 'zed', conversationId: c }])).toEqual(
          new Map([[rowKey('ann', c), row('ann', [2, 3])]]),
        );
      });

      it('readSessions: the rows of a user with their conversations, ready only once marked', async () => {
        const state = await hot.reset();
        await hot.apply(state, 1n, [], 200, writes(3, null));
        expect(await hot.readSessions('ann')).toEqual({ ready: false, epoch: state.epoch, entries: [{ row: row('ann', null), conversation: conversation(3) }] });
        await hot.markReady(state.epoch);
        expect((await hot.readSessions('ann')).ready).toBe(true);
        expect((await hot.readSessions('nobody')).entries).toEqual([]);
      });

      it('a forced reset leaves the session state of the old epoch behind', async () => {
        const old = await hot.reset();
        await hot.apply(old, 1n, [], 200, writes(3, [3]));
        const fresh = await hot.reset({ force: true });
        expect((await hot.readSessions('ann')).entries).toEqual([]);
        expect(await hot.readSessionConversations(fresh.epoch, [c])).toEqual(new Map());
      });
    });
  });
}
