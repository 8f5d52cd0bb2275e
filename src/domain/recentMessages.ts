// The recent messages of one conversation, remembered so edits and recalls are decided without
// reading the log. The application caches each conversation's state and evolves it after every
// append, so remembering a message must cost O(1); copying an immutable Map would cost O(window).
//
// So every state holds a small immutable view (start, end, version) over a log shared by all the
// states of one conversation. Only the newest view (the one whose version is the log's) writes to the
// log, and only past its own end or by stamping a recall with a newer version, which older views
// ignore. Evolving an older view again first copies its live part (a fork: correct, just O(window)).
// Each state therefore behaves as an immutable value, at O(1) amortised cost per message.
//
// Messages leave the window once older than `retentionMs` before the newest message, or beyond
// `maxMessages`. Dropped entries stay in the shared log until it is compacted, which happens once they
// outnumber the live ones (amortised O(1) again).
//
// A class because this sits on the send path: one small object per state with shared methods, instead
// of a fresh set of closures per message.
import type { MessageKind } from './events.js';

export interface RecentMessage {
  readonly seq: number;
  readonly senderId: string;
  readonly sentAtMs: number;
  readonly kind: MessageKind;
  readonly recalled: boolean;
}

export interface SentMessage {
  readonly messageId: string;
  readonly seq: number;
  readonly senderId: string;
  readonly sentAtMs: number;
  readonly kind: MessageKind;
}

export interface RecentMessagesRetention {
  readonly retentionMs: number;
  readonly maxMessages: number;
}

interface Slot extends SentMessage {
  readonly position: number;
  /** The log version at which the message was recalled; Infinity while it is not. */
  recalledAt: number;
}

interface SharedLog {
  readonly slots: Slot[];
  readonly index: Map<string, Slot>;
  version: number;
}

/** Spelled out, not spread: V8 builds spread-with-extra-fields objects an order of magnitude slower. */
const newSlot = (m: SentMessage, position: number, recalledAt: number): Slot => ({
  messageId: m.messageId,
  seq: m.seq,
  senderId: m.senderId,
  sentAtMs: m.sentAtMs,
  kind: m.kind,
  position,
  recalledAt,
});

/** Dropped entries tolerated in a log before it is compacted, if they also outnumber the live ones. */
const COMPACT_AFTER_DROPPED = 32;

export class RecentMessages implements ReadonlyMap<string, RecentMessage> {
  private constructor(
    private readonly log: SharedLog,
    private readonly start: number,
    private readonly end: number,
    private readonly version: number,
    /** The latest sentAt of any message seen (the window is measured back from it). */
    readonly newestSentAtMs: number,
    /** Whether a message ever left the window: then an unknown message id may be an old message. */
    readonly prunedAny: boolean,
  ) {}

  static empty(): RecentMessages {
    return new RecentMessages({ slots: [], index: new Map(), version: 0 }, 0, 0, 0, -Infinity, false);
  }

  get size(): number {
    return this.end - this.start;
  }

  get(messageId: string): RecentMessage | undefined {
    const slot = this.log.index.get(messageId);
    return slot && this.holds(slot) ? this.asMessage(slot) : undefined;
  }

  has(messageId: string): boolean {
    const slot = this.log.index.get(messageId);
    return slot !== undefined && this.holds(slot);
  }

  forEach(callback: (value: RecentMessage, key: string, map: ReadonlyMap<string, RecentMessage>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }

  *entries(): MapIterator<[string, RecentMessage]> {
    for (let position = this.start; position < this.end; position++) {
      const slot = this.log.slots[position]!;
      yield [slot.messageId, this.asMessage(slot)];
    }
  }

  *keys(): MapIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<RecentMessage> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[string, RecentMessage]> {
    return this.entries();
  }

  /** This window with `message` remembered and the messages now out of retention dropped. */
  withSent(message: SentMessage, retention: RecentMessagesRetention): RecentMessages {
    const { log, start: baseStart, end: baseEnd } = this.writable();
    const slot = newSlot(message, baseEnd, Infinity);
    log.slots.push(slot);
    log.index.set(message.messageId, slot);
    const version = ++log.version;
    const end = baseEnd + 1;
    const newest = Math.max(this.newestSentAtMs, message.sentAtMs);
    const cutoff = newest - retention.retentionMs;
    let start = baseStart;
    while (start < end && (end - start > retention.maxMessages || log.slots[start]!.sentAtMs < cutoff)) start++;
    const window = new RecentMessages(log, start, end, version, newest, this.prunedAny || start > baseStart);
    return start >= COMPACT_AFTER_DROPPED && start >= end - start ? window.copy() : window;
  }

  /** This window with the message marked recalled (itself when the message is unknown or already recalled). */
  withRecalled(messageId: string): RecentMessages {
    const known = this.log.index.get(messageId);
    if (!known || !this.holds(known) || known.recalledAt <= this.version) return this;
    const { log, start, end } = this.writable();
    const version = ++log.version;
    log.index.get(messageId)!.recalledAt = version;
    return new RecentMessages(log, start, end, version, this.newestSentAtMs, this.prunedAny);
  }

  private holds(slot: Slot): boolean {
    return slot.position >= this.start && slot.position < this.end;
  }

  private asMessage(slot: Slot): RecentMessage {
    return { seq: slot.seq, senderId: slot.senderId, sentAtMs: slot.sentAtMs, kind: slot.kind, recalled: slot.recalledAt <= this.version };
  }

  /** The log this view may write to: its own when it is the newest view of it, else a private copy. */
  private writable(): RecentMessages {
    return this.version === this.log.version ? this : this.copy();
  }

  /** A fresh log holding only this view's live messages, as this view sees them (version 0). */
  private copy(): RecentMessages {
    const slots: Slot[] = [];
    const index = new Map<string, Slot>();
    for (let position = this.start; position < this.end; position++) {
      const slot = this.log.slots[position]!;
      const copy = newSlot(slot, slots.length, slot.recalledAt <= this.version ? 0 : Infinity);
      slots.push(copy);
      index.set(copy.messageId, copy);
    }
    return new RecentMessages({ slots, index, version: 0 }, 0, slots.length, 0, this.newestSentAtMs, this.prunedAny);
  }
}
