// The zero-loss check must catch what it claims to: a hole in seq, an acknowledged message missing or
// at another seq, a duplicate, a delivery missing or repeated.
import { describe, expect, it } from 'vitest';
import { checkZeroLoss } from '../../bench/lib/loss.js';
import type { HttpAnswer, JsonClient } from '../../bench/lib/http.js';
import type { Ack, Delivered } from '../../bench/load/protocol.js';

const C = '00000000-0000-7000-8000-000000000001';

function fakeHistory(items: Array<{ seq: number; messageId?: string }>): JsonClient {
  return {
    async request<T>(_method: string, path: string): Promise<HttpAnswer<T>> {
      const after = Number(new URL(path, 'http://x').searchParams.get('after'));
      return { status: 200, body: { items: items.filter((i) => i.seq > after).slice(0, 200), nextCursor: null } as T };
    },
    close() {},
  };
}

const ack = (seq: number, messageId: string): Ack => ({ senderId: 'a', conversationId: C, clientMsgId: `c${seq}`, messageId, seq, sentAt: 0, doneAt: 1, status: 201, attempts: 1 });
const delivered = (userId: string, messageId: string, seq: number): Delivered => ({ userId, conversationId: C, seq, messageId, index: null, sentAt: 0, hintAt: 1, visibleAt: 2 });
const system = { seq: 1 };

describe('checkZeroLoss', () => {
  const acks = [ack(2, 'm2'), ack(3, 'm3')];
  const check = (items: Array<{ seq: number; messageId?: string }>, extra: Partial<Parameters<typeof checkZeroLoss>[0]> = {}) =>
    checkZeroLoss({ client: fakeHistory(items), acks, failed: 0, readerOf: () => 't', timeoutMs: 0, ...extra });

  it('holds when every ack is in history once, at its seq, without holes', async () => {
    expect((await check([system, { seq: 2, messageId: 'm2' }, { seq: 3, messageId: 'm3' }])).ok).toBe(true);
  });

  it('fails on a missing message, a hole, a message at another seq, a duplicate, or a send given up', async () => {
    expect((await check([system, { seq: 2, messageId: 'm2' }])).details.missingFromHistory).toBe(1);
    expect((await check([system, { seq: 2, messageId: 'm2' }, { seq: 4, messageId: 'm3' }])).details.seqHoles).toBe(1);
    expect((await check([system, { seq: 2, messageId: 'm3' }, { seq: 3, messageId: 'm2' }])).ok).toBe(false);
    expect((await check([system, { seq: 2, messageId: 'm2' }, { seq: 3, messageId: 'm3' }, { seq: 4, messageId: 'm3' }])).details.duplicatedInHistory).toBe(1);
    expect((await check([system, { seq: 2, messageId: 'm2' }, { seq: 3, messageId: 'm3' }], { failed: 1 })).ok).toBe(false);
  });

  it('checks deliveries: each recipient other than the sender gets each message exactly once', async () => {
    const history = [system, { seq: 2, messageId: 'm2' }, { seq: 3, messageId: 'm3' }];
    const deliveries = (list: Delivered[]) => ({ delivered: list, recipientsOf: () => ['a', 'b'], senderOf: (a: Ack) => a.senderId });
    expect((await check(history, { deliveries: deliveries([delivered('b', 'm2', 2), delivered('b', 'm3', 3)]) })).ok).toBe(true);
    const missing = await check(history, { deliveries: deliveries([delivered('b', 'm2', 2)]) });
    expect(missing.details.notReceivedThroughSync).toBe(1);
    const twice = await check(history, { deliveries: deliveries([delivered('b', 'm2', 2), delivered('b', 'm3', 3), delivered('b', 'm3', 3)]) });
    expect(twice.details.receivedMoreThanOnce).toBe(1);
  });
});
