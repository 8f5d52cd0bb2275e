// The checks every fault test ends with, made against the log itself (the events table) and then the
// read models: each conversation's seq runs 1..n without a hole, no send is stored twice, every
// acknowledged message is stored exactly once at the seq its client was given, and once the projector
// has caught up every projection equals a rebuild from the log.
import type pg from 'pg';
import { expect } from 'vitest';
import { ALL_PROJECTIONS, readCheckpoints, verifyProjection } from '../../../src/projections/index.js';
import { createPostgresEventStore } from '../../../src/store/postgres/postgresEventStore.js';
import type { Ack } from './retryingClient.js';
import { textOf } from './retryingClient.js';

export interface LedgerSummary {
  conversations: number;
  storedMessages: number;
  acknowledged: number;
  lost: string[];
  duplicated: string[];
  gaps: string[];
  wrongSeq: string[];
}

interface StoredRow {
  stream_id: string;
  stream_position: string;
  type: string;
  client_msg_id: string | null;
  sender_id: string | null;
  message_id: string | null;
  text: string | null;
}

export async function auditLog(pool: pg.Pool, acks: readonly Ack[]): Promise<LedgerSummary> {
  const conversationIds = [...new Set(acks.map((a) => a.conversationId))];
  const { rows } = await pool.query<StoredRow>(
    `SELECT stream_id, stream_position, type, data->>'clientMsgId' AS client_msg_id, data->>'senderId' AS sender_id,
            data->>'messageId' AS message_id, data->'body'->>'text' AS text
       FROM events WHERE stream_id = ANY($1) ORDER BY stream_id, stream_position`,
    [conversationIds.map((c) => `conversation-${c}`)],
  );
  const summary: LedgerSummary = { conversations: conversationIds.length, storedMessages: 0, acknowledged: 0, lost: [], duplicated: [], gaps: [], wrongSeq: [] };
  const byStream = new Map<string, StoredRow[]>();
  for (const row of rows) byStream.set(row.stream_id, [...(byStream.get(row.stream_id) ?? []), row]);
  const sendKey = (sender: string | null, clientMsgId: string | null) => `${sender}:${clientMsgId}`;
  const stored = new Map<string, { seq: number; row: StoredRow }>();
  for (const [streamId, events] of byStream) {
    events.forEach((e, i) => {
      if (Number(e.stream_position) !== i) summary.gaps.push(`${streamId}: position ${e.stream_position} where ${i} was due`);
      if (e.type !== 'MessageSent') return;
      summary.storedMessages += 1;
      const key = sendKey(e.sender_id, e.client_msg_id);
      if (stored.has(key)) summary.duplicated.push(`${key} at seq ${stored.get(key)!.seq} and ${i + 1}`);
      else stored.set(key, { seq: i + 1, row: e });
    });
  }
  // The sender of an ack is the prefix owner; acks carry the conversation, the message id identifies it.
  const storedByMessageId = new Map([...stored.values()].map((s) => [s.row.message_id, s]));
  const seen = new Set<string>();
  for (const ack of acks) {
    if (seen.has(`${ack.conversationId}:${ack.clientMsgId}`)) continue;
    seen.add(`${ack.conversationId}:${ack.clientMsgId}`);
    summary.acknowledged += 1;
    const found = storedByMessageId.get(ack.messageId);
    if (!found) summary.lost.push(`${ack.clientMsgId} (seq ${ack.seq})`);
    else if (found.seq !== ack.seq || found.row.client_msg_id !== ack.clientMsgId || found.row.text !== textOf(ack.clientMsgId)) {
      summary.wrongSeq.push(`${ack.clientMsgId}: acked seq ${ack.seq}, stored at ${found.seq} as ${found.row.client_msg_id}`);
    }
  }
  return summary;
}

export function expectNothingLost(summary: LedgerSummary): void {
  expect(summary.lost, 'acknowledged messages missing from the log').toEqual([]);
  expect(summary.duplicated, 'sends stored twice').toEqual([]);
  expect(summary.gaps, 'holes in a conversation seq').toEqual([]);
  expect(summary.wrongSeq, 'acknowledged at another seq than stored').toEqual([]);
  expect(summary.acknowledged).toBeGreaterThan(0);
}

const PROJECTION_NAMES = ALL_PROJECTIONS.map((p) => p.name);

/** Waits until every projection's checkpoint reached the end of the log, at most `timeoutMs`. */
export async function waitForProjections(pool: pg.Pool, timeoutMs = 60_000): Promise<void> {
  const { rows } = await pool.query<{ last: string | null }>('SELECT max(global_position)::text AS last FROM events');
  const last = BigInt(rows[0]!.last ?? '0');
  for (const deadline = Date.now() + timeoutMs; ; ) {
    const checkpoints = await readCheckpoints(pool, PROJECTION_NAMES);
    if (PROJECTION_NAMES.every((n) => (checkpoints.get(n)?.position ?? 0n) >= last)) return;
    if (Date.now() > deadline) {
      throw new Error(`projections did not reach ${last}: ${[...checkpoints.values()].map((c) => `${c.name}@${c.position}`).join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every projection equals a rebuild from the log (verifyProjection), given the service's fan-out limit. */
export async function expectProjectionsEqualRebuild(pool: pg.Pool, fanoutLimit = 500): Promise<void> {
  const store = createPostgresEventStore({ pool, notify: false });
  try {
    for (const name of PROJECTION_NAMES) {
      expect(await verifyProjection({ pool, store, fanoutLimit }, name), `${name} differs from a rebuild`).toEqual([]);
    }
  } finally {
    await store.close();
  }
}

/** Pages a conversation's history through the API: the seqs (must be 1..n) and the texts by seq. */
export async function historyThroughApi(base: string, token: string, conversationId: string): Promise<Map<number, string | undefined>> {
  const bySeq = new Map<number, string | undefined>();
  for (let after = 0; ; ) {
    const res = await fetch(`${base}/v1/conversations/${conversationId}/messages?after=${after}&limit=200`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { items: Array<{ seq: number; body?: { text?: string } }> };
    for (const item of page.items) bySeq.set(item.seq, item.body?.text);
    if (page.items.length < 200) break;
    after = page.items.at(-1)!.seq;
  }
  return bySeq;
}

/** The history the API serves has every seq 1..n once and each acknowledged message's text at its seq. */
export async function expectHistoryHasAcks(base: string, tokenFor: (conversationId: string) => string, acks: readonly Ack[]): Promise<void> {
  for (const conversationId of new Set(acks.map((a) => a.conversationId))) {
    const history = await historyThroughApi(base, tokenFor(conversationId), conversationId);
    expect([...history.keys()], `seqs of ${conversationId}`).toEqual([...history.keys()].map((_, i) => i + 1));
    for (const ack of acks.filter((a) => a.conversationId === conversationId)) expect(history.get(ack.seq), ack.clientMsgId).toBe(textOf(ack.clientMsgId));
  }
}
