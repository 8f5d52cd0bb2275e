// The event store port: what Missive needs from any event store (PostgreSQL, EventStoreDB, memory).
// Every adapter passes the same contract suite (test/contract/eventStoreContract.ts).

export interface EventMetadata {
  actorId: string;
  deviceId?: string;
  correlationId?: string;
  causationId?: string;
  schemaVersion: number;
}

/** An event to append. `eventId` is the idempotency key: appending a stored id again appends nothing. */
export interface NewEvent<Type extends string = string, Data = unknown> {
  eventId: string;
  type: Type;
  data: Data;
  metadata: EventMetadata;
}

/** A stored event with its envelope (DESIGN.md §3). */
export interface RecordedEvent<Type extends string = string, Data = unknown> {
  eventId: string;
  type: Type;
  streamId: string;
  /** 0-based position in its stream; consecutive and gapless. */
  streamPosition: number;
  /** Position in the global order; strictly increasing in the order readers see events, not necessarily dense. */
  globalPosition: bigint;
  recordedAt: Date;
  data: Data;
  metadata: EventMetadata;
}

/**
 * What the appender believes the stream's last position is:
 * - 'any': no check; 'no_stream': the stream must not exist; 'stream_exists': it must exist;
 * - a number: the stream's last streamPosition must equal it (-1 means no stream).
 */
export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | number;

export interface AppendResult {
  /** The stream's last position after the append (unchanged when everything was a duplicate). */
  nextExpectedRevision: number;
  /** One entry per event passed in, same order: the stored record and whether it was already there. */
  events: Array<{ record: RecordedEvent; duplicate: boolean }>;
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards';
  /** Inclusive start position; forwards defaults to 0, backwards to the stream's end. */
  fromPosition?: number;
  maxCount?: number;
}

export interface ReadAllOptions {
  /** Exclusive: events with globalPosition greater than this. Defaults to the beginning (0n). */
  after?: bigint;
  maxCount?: number;
}

export interface ReadAllPage {
  events: RecordedEvent[];
  /** Pass as `after` to read on; equals the last event's position, or the `after` given when empty. */
  lastPosition: bigint;
  /**
   * True when committed events past this page exist but were held back because an older transaction
   * is still open (see the PostgreSQL fence). The open transaction's commit may not notify anyone,
   * so a follower should look again soon rather than wait for the next wake-up.
   */
  heldBack?: boolean;
}

export interface SubscribeOptions {
  /** Exclusive checkpoint: deliver events after this global position. */
  after: bigint;
  /** Max events per delivered batch. */
  batchSize?: number;
  /** Called with each batch in global order; the next batch waits for the promise. */
  onEvents: (events: RecordedEvent[]) => Promise<void>;
  onError?: (error: unknown) => void;
}

export interface Subscription {
  /** Stops delivering; resolves when the in-flight batch (if any) finished. */
  stop(): Promise<void>;
}

export interface EventStore {
  append(streamId: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  /** Reads the global order, never past an event that might still commit at a lower position. */
  readAll(options?: ReadAllOptions): Promise<ReadAllPage>;
  /** The position of the last event readers may see now (0n when empty). */
  headPosition(): Promise<bigint>;
  /** Follows the global order from a checkpoint, woken by new appends, polling as a safety net. */
  subscribe(options: SubscribeOptions): Subscription;
  close(): Promise<void>;
}

export const MAX_EVENT_BYTES = 1024 * 1024;

/** Optimistic concurrency failure: the stream is not where the appender expected. */
export class WrongExpectedRevisionError extends Error {
  readonly code = 'wrong_expected_revision';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: number,
  ) {
    super(`Stream ${streamId}: expected revision ${String(expected)}, actual ${actual}`);
  }
}

/** An event (data + metadata as JSON) is larger than the store accepts. */
export class EventTooLargeError extends Error {
  readonly code = 'event_too_large';
  constructor(
    readonly eventId: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(`Event ${eventId} is ${bytes} bytes; the limit is ${limit}`);
  }
}

/** An event id that is already stored in another stream, or twice in one append. */
export class EventIdConflictError extends Error {
  readonly code = 'event_id_conflict';
  constructor(
    readonly eventId: string,
    readonly storedStreamId: string,
  ) {
    super(`Event id ${eventId} is already stored in stream ${storedStreamId}`);
  }
}

/** The store cannot be reached or failed; the operation may be retried. */
export class StoreUnavailableError extends Error {
  readonly code = 'store_unavailable';
}
