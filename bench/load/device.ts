// One simulated device on the WebSocket gateway: it holds its socket (answering the server's pings,
// as every ws stack does), records when sync hints arrive, and, when asked to, pulls the delta over the
// socket (`op: "sync"`) on every hint, as a real client does, noting when each message became visible.
import WebSocket from 'ws';
import { wallMs } from './clock.js';
import type { Delivered, DeviceSpec } from './protocol.js';

interface SyncResult {
  type: 'sync.result';
  items: Array<{ type: string; conversationId: string; seq: number; item?: { messageId?: string; body?: { t0?: number; i?: number } } }>;
  nextToken: string;
  hasMore: boolean;
}

const OPEN_TIMEOUT_MS = 30_000;
const OP_TIMEOUT_MS = 60_000;

export class Device {
  private ws: WebSocket | undefined;
  private syncToken: string | null = null;
  private readonly hints: number[] = [];
  private pulling = false;
  private hintedDuringPull = false;
  private nextOpId = 1;
  private readonly waiting = new Map<number, { resolve: (frame: SyncResult) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  /** Delivered items still waiting for a hint sent after them (the pull that found them came from an older hint). */
  private awaitingHint: Delivered[] = [];
  delivered: Delivered[] = [];
  unexpectedCloses = 0;
  pullErrors = 0;
  pongs = 0;
  private pingTimer: NodeJS.Timeout | undefined;
  closedByUs = false;

  constructor(
    readonly spec: DeviceSpec,
    private readonly pullOnHint: boolean,
  ) {}

  get hintCount(): number {
    return this.hints.length;
  }

  open(appPingMs?: number): Promise<void> {
    const url = `${this.spec.url.replace(/^http/, 'ws')}/v1/ws`;
    const ws = new WebSocket(url, ['missive.v1'], {
      headers: { authorization: `Bearer ${this.spec.token}` },
      localAddress: this.spec.localAddress,
      perMessageDeflate: false,
      handshakeTimeout: OPEN_TIMEOUT_MS,
    });
    this.ws = ws;
    ws.on('message', (data) => this.onFrame(String(data)));
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        ws.on('close', () => {
          if (!this.closedByUs) this.unexpectedCloses++;
          for (const [, w] of this.waiting) w.reject(new Error('socket closed'));
          this.waiting.clear();
          clearInterval(this.pingTimer);
        });
        if (appPingMs) {
          // Spread the pings so thousands of sockets do not all ping in the same millisecond.
          setTimeout(() => {
            this.pingTimer = setInterval(() => this.send({ op: 'ping' }), appPingMs);
          }, Math.random() * appPingMs).unref();
        }
        resolve();
      });
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: HTTP ${res.statusCode}`)));
    });
  }

  /** First pull without a token: the session list and a token; then drain to the head. */
  async initialSync(): Promise<void> {
    // Hints arriving meanwhile wait for it (they would pull with no token, racing this one).
    this.pulling = true;
    this.hintedDuringPull = false;
    try {
      this.syncToken = null;
      for (let page = 0; page < 10_000; page++) {
        const result = await this.op({ op: 'sync', limit: 500, ...(this.syncToken ? { since: this.syncToken } : {}) });
        this.syncToken = result.nextToken;
        if (!result.hasMore) break;
      }
    } finally {
      this.pulling = false;
    }
    if (this.hintedDuringPull && this.pullOnHint) this.pullSoon();
  }

  /**
   * One more pull to the head, as a client does on resume or on a timer: hints may be lost by design
   * (docs/websocket.md), the pull may not. What only this pull finds keeps hintAt null.
   */
  async finalPull(): Promise<void> {
    for (let i = 0; i < 6_000 && this.pulling; i++) await new Promise((r) => setTimeout(r, 10));
    this.pulling = true;
    try {
      await this.pullLoop();
    } finally {
      this.pulling = false;
    }
  }

  close(): void {
    this.closedByUs = true;
    clearInterval(this.pingTimer);
    this.ws?.terminate();
  }

  /** Items still without a hint at collection time keep hintAt null. */
  takeDelivered(): Delivered[] {
    const out = this.delivered.concat(this.awaitingHint);
    this.delivered = [];
    this.awaitingHint = [];
    return out;
  }

  private send(frame: object): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  private onFrame(text: string): void {
    const at = wallMs();
    const frame = JSON.parse(text) as { type: string; id?: number };
    if (frame.type === 'sync') {
      this.hints.push(at);
      this.resolveAwaitingHints(at);
      if (this.pullOnHint) this.pullSoon();
    } else if (frame.type === 'pong') {
      this.pongs++;
    } else if (typeof frame.id === 'number' && this.waiting.has(frame.id)) {
      const w = this.waiting.get(frame.id)!;
      this.waiting.delete(frame.id);
      clearTimeout(w.timer);
      if (frame.type === 'sync.result') w.resolve(frame as unknown as SyncResult);
      else w.reject(new Error(`op failed: ${text.slice(0, 200)}`));
    }
  }

  private op(frame: Record<string, unknown>): Promise<SyncResult> {
    const id = this.nextOpId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error('op timed out'));
      }, OP_TIMEOUT_MS);
      this.waiting.set(id, { resolve, reject, timer });
      this.send({ ...frame, id });
    });
  }

  private pullSoon(): void {
    if (this.pulling) {
      this.hintedDuringPull = true;
      return;
    }
    this.pulling = true;
    void this.pullLoop().finally(() => (this.pulling = false));
  }

  /** Pulls until the delta is empty and no hint came meanwhile (docs/websocket.md's client recipe). */
  private async pullLoop(): Promise<void> {
    for (let round = 0; round < 10_000; round++) {
      this.hintedDuringPull = false;
      let result: SyncResult;
      try {
        result = await this.op({ op: 'sync', limit: 500, ...(this.syncToken ? { since: this.syncToken } : {}) });
      } catch {
        this.pullErrors++;
        return;
      }
      const visibleAt = wallMs();
      this.syncToken = result.nextToken;
      for (const entry of result.items) this.noteItem(entry, visibleAt);
      if (!result.hasMore && !this.hintedDuringPull) return;
    }
  }

  private noteItem(entry: SyncResult['items'][number], visibleAt: number): void {
    const t0 = entry.item?.body?.t0;
    if (entry.type !== 'item' || typeof t0 !== 'number' || !entry.item?.messageId) return;
    const record: Delivered = {
      userId: this.spec.userId,
      conversationId: entry.conversationId,
      seq: entry.seq,
      messageId: entry.item.messageId,
      index: typeof entry.item.body?.i === 'number' ? entry.item.body.i : null,
      sentAt: t0,
      hintAt: this.firstHintAtOrAfter(t0),
      visibleAt,
    };
    if (record.hintAt === null) this.awaitingHint.push(record);
    else this.delivered.push(record);
  }

  private firstHintAtOrAfter(t: number): number | null {
    // Hints are appended in time order; search from the end, where the recent ones are.
    let found: number | null = null;
    for (let i = this.hints.length - 1; i >= 0 && this.hints[i]! >= t; i--) found = this.hints[i]!;
    return found;
  }

  private resolveAwaitingHints(at: number): void {
    if (this.awaitingHint.length === 0) return;
    const still: Delivered[] = [];
    for (const record of this.awaitingHint) {
      if (at >= record.sentAt) this.delivered.push({ ...record, hintAt: at });
      else still.push(record);
    }
    this.awaitingHint = still;
  }
}
