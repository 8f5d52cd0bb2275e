// 32 senders writing into ONE group at once through the real HTTP API of a real server on loopback,
// with repeated clientMsgIds mixed in: later retries of a sender's own earlier ids, racing duplicates
// (the same request twice in parallel), and the same clientMsgId text used by every sender (which
// names 32 different messages: idempotency is per sender). Afterwards the log must hold exactly one
// MessageSent per distinct (sender, clientMsgId), seq must run 1..N without a hole, every retry must
// have answered the original seq, and each sender's own messages must keep the order it sent them in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationStreamId } from '../../src/domain/streams.js';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';
import { call, startLiveServer, type LiveServer } from '../support/liveServer.js';

const SENDERS = 32;
const MESSAGES_PER_SENDER = 20;

let server: LiveServer;
beforeAll(async () => {
  server = await startLiveServer();
}, 60_000);
afterAll(async () => server?.close());

interface Ack {
  status: number;
  messageId: string;
  seq: number;
  sentAt: string;
}

describe('32 concurrent senders into one conversation', () => {
  it('gives gapless seqs, one event per distinct clientMsgId, original seqs to retries, and keeps each sender’s order', async () => {
    const senders = Array.from({ length: SENDERS }, (_, i) => `sender-${String(i).padStart(2, '0')}`);
    const tokens = new Map(await Promise.all(senders.map(async (s) => [s, await server.tokenFor(s)] as const)));
    const owner = senders[0]!;
    const created = await call(server.base, 'POST', '/v1/groups', { token: tokens.get(owner), body: { name: 'crowd', memberIds: senders.slice(1) } });
    expect(created.status).toBe(201);
    const conversationId = created.json.conversationId as string;
    const url = `/v1/conversations/${conversationId}/messages`;
    const eventsBefore = await server.eventCount();

    const send = async (sender: string, clientMsgId: string): Promise<Ack> => {
      const r = await call(server.base, 'POST', url, { token: tokens.get(sender), body: { clientMsgId, kind: 'text', body: { text: `${sender}/${clientMsgId}` } } });
      if (r.status !== 201 && r.status !== 200) throw new Error(`${sender} ${clientMsgId}: ${r.status} ${r.text}`);
      return { status: r.status, ...(r.json as Omit<Ack, 'status'>) };
    };

    let retries = 0;
    // Each sender sends its messages one after the other (its order is the order it awaited them in).
    const perSender = await Promise.all(
      senders.map(async (sender, s) => {
        const acked: Ack[] = [];
        for (let j = 0; j < MESSAGES_PER_SENDER; j++) {
          const clientMsgId = `m-${j}`; // the same text for every sender: 32 distinct messages
          let ack: Ack;
          if ((j + s) % 5 === 0) {
            // A racing duplicate: the client's retry left before the first answer came back.
            const [a, b] = await Promise.all([send(sender, clientMsgId), send(sender, clientMsgId)]);
            retries += 1;
            expect([a.status, b.status].sort()).toEqual([200, 201]);
            expect({ ...a, status: 0 }).toEqual({ ...b, status: 0 });
            ack = a;
          } else {
            ack = await send(sender, clientMsgId);
            expect(ack.status).toBe(201);
          }
          acked.push(ack);
          if ((j + s) % 3 === 0) {
            // A late retry of one of this sender's earlier messages: the original answer, status 200.
            const k = (j * 7 + s) % (j + 1);
            const again = await send(sender, `m-${k}`);
            retries += 1;
            expect(again).toEqual({ ...acked[k]!, status: 200 });
          }
        }
        return acked;
      }),
    );

    const distinct = SENDERS * MESSAGES_PER_SENDER;
    // Each sender's own messages keep the order it sent them in.
    for (const acked of perSender) {
      const seqs = acked.map((a) => a.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(new Set(seqs).size).toBe(seqs.length);
    }
    // Every seq from 2 (1 is GroupCreated) to N is some message: no hole, no seq given twice.
    const allSeqs = perSender.flat().map((a) => a.seq).sort((x, y) => x - y);
    expect(allSeqs).toEqual(Array.from({ length: distinct }, (_, i) => i + 2));

    // The log: exactly one MessageSent per distinct (sender, clientMsgId), at the acknowledged seq.
    expect(await server.eventCount()).toBe(eventsBefore + distinct);
    const reader = createPostgresEventStore({ pool: server.db.pool, notify: false });
    const events = await reader.readStream(conversationStreamId(conversationId));
    await reader.close();
    expect(events.map((e) => e.streamPosition + 1)).toEqual(Array.from({ length: distinct + 1 }, (_, i) => i + 1));
    const sent = events.filter((e) => e.type === 'MessageSent').map((e) => e.data as { senderId: string; clientMsgId: string; messageId: string });
    expect(sent).toHaveLength(distinct);
    expect(new Set(sent.map((m) => `${m.senderId}:${m.clientMsgId}`)).size).toBe(distinct);
    senders.forEach((sender, s) =>
      perSender[s]!.forEach((ack, j) => {
        const event = events[ack.seq - 1]!;
        expect(event.data).toMatchObject({ senderId: sender, clientMsgId: `m-${j}`, messageId: ack.messageId });
      }),
    );
    expect(retries).toBeGreaterThan(SENDERS * 4);
  }, 90_000);
});
