// The zero-loss check every scenario runs: each acknowledged send is in its conversation's history
// exactly once, at the seq it was acknowledged with, and the history's seqs have no hole; and, where
// devices pulled through sync, each device received each message meant for it exactly once.
import { sleep } from '../load/clock.js';
import type { Ack, Delivered } from '../load/protocol.js';
import type { JsonClient } from './http.js';
import type { ZeroLoss } from './report.js';

interface HistoryItem {
  seq: number;
  messageId?: string;
}

/** Reads a conversation's whole history by seq (ascending pages of 200), waiting for it to reach `lastSeq`. */
async function readHistory(client: JsonClient, token: string, conversationId: string, lastSeq: number, timeoutMs: number): Promise<HistoryItem[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const items: HistoryItem[] = [];
    let after = 0;
    for (let page = 0; page < 100_000; page++) {
      const res = await client.request<{ items: HistoryItem[]; nextCursor: number | null }>('GET', `/v1/conversations/${conversationId}/messages?after=${after}&limit=200`, token);
      if (res.status === 429) {
        await sleep(1_000);
        page--;
        continue;
      }
      // The reader's membership reaches the read models a moment after the acks (eventual consistency):
      // a 404 is "not yet" until the deadline, then a failure.
      if (res.status === 404 && Date.now() < deadline) {
        await sleep(200);
        page--;
        continue;
      }
      if (res.status !== 200) throw new Error(`history of ${conversationId}: HTTP ${res.status}`);
      items.push(...res.body.items);
      if (res.body.items.length < 200) break;
      after = res.body.items[res.body.items.length - 1]!.seq;
    }
    const top = items.length ? items[items.length - 1]!.seq : 0;
    if (top >= lastSeq || Date.now() > deadline) return items;
    await sleep(200);
  }
}

export interface LossInput {
  client: JsonClient;
  acks: Ack[];
  /** Sends given up by the load generator (each is a failure of the run, reported as such). */
  failed: number;
  /** A member's token per conversation, to read its history with. */
  readerOf: (conversationId: string) => string;
  /** Optional: what devices pulled, and which users should have received which conversation's messages. */
  deliveries?: { delivered: Delivered[]; recipientsOf: (conversationId: string) => readonly string[]; senderOf: (ack: Ack) => string };
  timeoutMs?: number;
}

export async function checkZeroLoss(input: LossInput): Promise<ZeroLoss> {
  const byConversation = new Map<string, Ack[]>();
  for (const ack of input.acks) {
    let list = byConversation.get(ack.conversationId);
    if (!list) byConversation.set(ack.conversationId, (list = []));
    list.push(ack);
  }
  const problems: string[] = [];
  let holes = 0;
  let missing = 0;
  let duplicated = 0;
  let checkedItems = 0;
  const conversations = [...byConversation.keys()];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(8, conversations.length) }, async () => {
      while (next < conversations.length) {
        const conversationId = conversations[next++]!;
        const acks = byConversation.get(conversationId)!;
        const lastSeq = Math.max(...acks.map((a) => a.seq));
        const history = await readHistory(input.client, input.readerOf(conversationId), conversationId, lastSeq, input.timeoutMs ?? 60_000);
        checkedItems += history.length;
        history.forEach((item, i) => {
          if (item.seq !== i + 1) holes++;
        });
        const countById = new Map<string, number>();
        for (const item of history) if (item.messageId) countById.set(item.messageId, (countById.get(item.messageId) ?? 0) + 1);
        const bySeq = new Map(history.map((item) => [item.seq, item]));
        for (const ack of acks) {
          const n = countById.get(ack.messageId) ?? 0;
          if (n === 0 || bySeq.get(ack.seq)?.messageId !== ack.messageId) {
            missing++;
            if (problems.length < 10) problems.push(`${conversationId}: ack seq ${ack.seq} ${ack.messageId} not at its seq in history`);
          } else if (n > 1) duplicated++;
        }
        // Acks of one message must agree (a retry answers the original).
        if (new Set(acks.map((a) => a.messageId)).size !== acks.length) duplicated++;
      }
    }),
  );
  const details: Record<string, unknown> = {
    acknowledgedSends: input.acks.length,
    sendsGivenUp: input.failed,
    conversations: conversations.length,
    historyItemsRead: checkedItems,
    seqHoles: holes,
    missingFromHistory: missing,
    duplicatedInHistory: duplicated,
  };
  let deliveryOk = true;
  if (input.deliveries) {
    const d = checkDeliveries(input.acks, input.deliveries);
    Object.assign(details, d.details);
    deliveryOk = d.ok;
    problems.push(...d.problems);
  }
  if (problems.length) details.firstProblems = problems.slice(0, 10);
  return {
    ok: input.failed === 0 && holes === 0 && missing === 0 && duplicated === 0 && deliveryOk,
    checked:
      'Every acknowledged send read back from its conversation history (GET /v1/conversations/:id/messages, by seq): present exactly once at its acknowledged seq, seqs 1..last without a hole' +
      (input.deliveries ? '; and every recipient device received each message meant for it exactly once through sync.' : '.'),
    details,
  };
}

function checkDeliveries(acks: Ack[], input: NonNullable<LossInput['deliveries']>) {
  const got = new Map<string, number>();
  for (const d of input.delivered) {
    const key = `${d.userId}|${d.messageId}`;
    got.set(key, (got.get(key) ?? 0) + 1);
  }
  let expected = 0;
  let notReceived = 0;
  let receivedTwice = 0;
  const problems: string[] = [];
  for (const ack of acks) {
    for (const userId of input.recipientsOf(ack.conversationId)) {
      if (userId === input.senderOf(ack)) continue;
      expected++;
      const n = got.get(`${userId}|${ack.messageId}`) ?? 0;
      if (n === 0) {
        notReceived++;
        if (problems.length < 5) problems.push(`${userId} never pulled ${ack.messageId} (seq ${ack.seq})`);
      } else if (n > 1) receivedTwice++;
    }
  }
  return {
    ok: notReceived === 0 && receivedTwice === 0,
    problems,
    details: { expectedDeliveries: expected, deliveriesRecorded: input.delivered.length, notReceivedThroughSync: notReceived, receivedMoreThanOnce: receivedTwice },
  };
}
