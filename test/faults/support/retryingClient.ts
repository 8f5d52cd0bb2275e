// A well-behaved client under faults: sends a message and, on any failure a retry may fix (connection
// refused or reset, a timeout, 5xx, 429), sends it again with the same clientMsgId after a short
// backoff, until it is acknowledged. Every attempt is recorded (status, how long it waited), so a test
// can say what clients saw while something was down.

export interface Attempt {
  startedAt: number;
  ms: number;
  /** HTTP status, or 0 when the request failed without an answer (refused, reset, timed out). */
  status: number;
  code?: string;
}

export interface Ack {
  clientMsgId: string;
  conversationId: string;
  seq: number;
  messageId: string;
  /** 201 the first acknowledgement; 200 when the store already had the send (a retry after a lost reply). */
  status: number;
  attempts: number;
}

export interface ClientTarget {
  /** The server's base URL now (it may move between restarts in some tests; usually fixed). */
  base(): string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface RequestOptions {
  token?: string;
  body?: unknown;
  timeoutMs?: number;
}

/** One HTTP attempt; never throws, records the attempt. */
export async function attempt(target: ClientTarget, method: string, url: string, options: RequestOptions, log: Attempt[]): Promise<{ status: number; body: any }> {
  const startedAt = Date.now();
  try {
    const res = await fetch(target.base() + url, {
      method,
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    const text = await res.text();
    const body = text ? JSON.parse(text) : undefined;
    log.push({ startedAt, ms: Date.now() - startedAt, status: res.status, code: body?.code });
    return { status: res.status, body };
  } catch (error) {
    log.push({ startedAt, ms: Date.now() - startedAt, status: 0, code: (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name });
    return { status: 0, body: undefined };
  }
}

const retryable = (status: number) => status === 0 || status === 429 || status >= 500;

/** Sends until acknowledged (or `giveUpAfterMs` passes: then throws, and the test fails). */
export async function sendUntilAcked(
  target: ClientTarget,
  token: string,
  conversationId: string,
  clientMsgId: string,
  text: string,
  log: Attempt[],
  giveUpAfterMs = 90_000,
): Promise<Ack> {
  const deadline = Date.now() + giveUpAfterMs;
  for (let attempts = 1, backoff = 25; ; attempts++) {
    const res = await attempt(target, 'POST', `/v1/conversations/${conversationId}/messages`, { token, body: { clientMsgId, kind: 'text', body: { text } } }, log);
    if (res.status === 200 || res.status === 201) {
      return { clientMsgId, conversationId, seq: res.body.seq, messageId: res.body.messageId, status: res.status, attempts };
    }
    if (!retryable(res.status)) throw new Error(`send ${clientMsgId} refused with ${res.status}: ${JSON.stringify(res.body)}`);
    if (Date.now() > deadline) throw new Error(`send ${clientMsgId} not acknowledged after ${attempts} attempts; last answer ${res.status} ${JSON.stringify(res.body)}`);
    await sleep(backoff);
    backoff = Math.min(backoff * 2, 400);
  }
}

/** A request retried like a send until it answers without a retryable failure. */
export async function requestUntilAnswered(target: ClientTarget, method: string, url: string, options: RequestOptions, giveUpAfterMs = 60_000): Promise<{ status: number; body: any }> {
  const deadline = Date.now() + giveUpAfterMs;
  for (let backoff = 25; ; backoff = Math.min(backoff * 2, 400)) {
    const res = await attempt(target, method, url, options, []);
    if (!retryable(res.status)) return res;
    if (Date.now() > deadline) throw new Error(`${method} ${url} still failing (${res.status}) after ${giveUpAfterMs} ms`);
    await sleep(backoff);
  }
}

export interface SenderStats {
  acks: Ack[];
  /** Re-sends of an already acknowledged message whose seq differed from the first answer (must stay empty). */
  seqMismatches: string[];
  resends: number;
}

/**
 * One user sending numbered messages into a conversation until `shouldStop()`, and now and then
 * re-sending an earlier acknowledged message, as a client that lost a reply does: it must get the
 * original seq back.
 */
export async function runSender(options: {
  target: ClientTarget;
  token: string;
  conversationId: string;
  prefix: string;
  shouldStop: () => boolean;
  log: Attempt[];
  maxMessages?: number;
  pauseMs?: number;
}): Promise<SenderStats> {
  const stats: SenderStats = { acks: [], seqMismatches: [], resends: 0 };
  for (let i = 0; !options.shouldStop() && i < (options.maxMessages ?? 10_000); i++) {
    const clientMsgId = `${options.prefix}-${i}`;
    stats.acks.push(await sendUntilAcked(options.target, options.token, options.conversationId, clientMsgId, textOf(clientMsgId), options.log));
    if (i % 5 === 4) {
      const earlier = stats.acks[Math.floor(Math.random() * stats.acks.length)]!;
      const again = await sendUntilAcked(options.target, options.token, options.conversationId, earlier.clientMsgId, textOf(earlier.clientMsgId), options.log);
      stats.resends += 1;
      if (again.seq !== earlier.seq || again.messageId !== earlier.messageId || again.status !== 200) {
        stats.seqMismatches.push(`${earlier.clientMsgId}: first seq ${earlier.seq}, re-send seq ${again.seq} (status ${again.status})`);
      }
    }
    if (options.pauseMs) await sleep(options.pauseMs);
  }
  return stats;
}

export const textOf = (clientMsgId: string) => `text of ${clientMsgId}`;

export async function devToken(target: ClientTarget, userId: string): Promise<string> {
  const res = await requestUntilAnswered(target, 'POST', '/v1/dev/token', { body: { userId } });
  return res.body.token as string;
}
