// Senders over REST (`POST /v1/conversations/:id/messages`), open loop (a fixed rate, whatever the
// answers do) or closed loop (N in flight, as fast as the service answers). Every message carries its
// send time (body.t0) so receivers measure latency without a shared table. A refused or failed send is
// retried with the same clientMsgId (sends are idempotent), so a retry can never duplicate a message.
import { wallMs, sleep } from './clock.js';
import { createJsonClient, type JsonClient } from '../lib/http.js';
import type { Ack, SendReport, SenderSpec } from './protocol.js';

const MAX_ATTEMPTS = 8;
const TICK_MS = 5;

export function createSenders(urls: string[], maxSockets: number) {
  const clients = new Map<string, JsonClient>(urls.map((u) => [u, createJsonClient(u, { maxSockets })]));
  const counters = new Map<string, number>();

  function newReport(): SendReport {
    return { acks: [], failed: [], statuses: {}, skipped: 0 };
  }

  async function sendOne(sender: SenderSpec, tag: string, report: SendReport): Promise<void> {
    const n = (counters.get(sender.userId) ?? 0) + 1;
    counters.set(sender.userId, n);
    const clientMsgId = `${tag}-${sender.userId}-${n}`;
    const sentAt = wallMs();
    const body = { clientMsgId, kind: 'text', body: { text: `bench ${n}`, t0: sentAt } };
    const client = clients.get(sender.url)!;
    let lastError = '';
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      try {
        const res = await client.request<{ messageId: string; seq: number }>('POST', `/v1/conversations/${sender.conversationId}/messages`, sender.token, body);
        report.statuses[res.status] = (report.statuses[res.status] ?? 0) + 1;
        if (res.status === 201 || res.status === 200) {
          report.acks.push({ senderId: sender.userId, conversationId: sender.conversationId, clientMsgId, messageId: res.body.messageId, seq: res.body.seq, sentAt, doneAt: wallMs(), status: res.status, attempts: attempt });
          return;
        }
        lastError = `HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
        if (res.status !== 429 && res.status < 500) break;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
        report.statuses.network = (report.statuses.network ?? 0) + 1;
      }
      await sleep(50 * 2 ** Math.min(attempt, 5));
    }
    report.failed.push({ conversationId: sender.conversationId, clientMsgId, error: lastError });
  }

  /** Issues sends on a fixed schedule (round-robin over the senders) for durationMs. */
  async function openLoop(senders: SenderSpec[], ratePerSecond: number, durationMs: number, maxInFlight: number, tag: string): Promise<SendReport> {
    const report = newReport();
    const started = wallMs();
    let issued = 0;
    let inFlight = 0;
    const pending = new Set<Promise<void>>();
    for (let now = started; now - started < durationMs; now = wallMs()) {
      const due = Math.floor(((now - started) / 1000) * ratePerSecond);
      while (issued < due) {
        const sender = senders[issued % senders.length]!;
        issued++;
        if (inFlight >= maxInFlight) {
          report.skipped++;
          continue;
        }
        inFlight++;
        const p = sendOne(sender, tag, report).finally(() => {
          inFlight--;
          pending.delete(p);
        });
        pending.add(p);
      }
      await sleep(TICK_MS);
    }
    await Promise.all(pending);
    return report;
  }

  /** `concurrency` loops, each sending as soon as its previous send was answered. */
  async function closedLoop(senders: SenderSpec[], concurrency: number, durationMs: number, tag: string, maxSends = Infinity): Promise<SendReport> {
    const report = newReport();
    const deadline = wallMs() + durationMs;
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (wallMs() < deadline && next < maxSends) await sendOne(senders[next++ % senders.length]!, tag, report);
      }),
    );
    return report;
  }

  return { openLoop, closedLoop, clients, close: () => clients.forEach((c) => c.close()) };
}
