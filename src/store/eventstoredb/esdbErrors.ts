// Turns what @eventstore/db-client throws into the port's typed errors. The client throws its own
// CommandError classes, raw gRPC ServiceErrors (e.g. from its feature probe) and plain Errors (cluster
// discovery); callers of the port only ever see StoreUnavailableError for all of those.
import {
  CancelledError,
  DeadlineExceededError,
  NotLeaderError,
  TimeoutError,
  UnavailableError,
  convertToCommandError,
  isCommandError,
} from '@eventstore/db-client';
import { EventTooLargeError, StoreUnavailableError } from '../eventStore.js';
import type { PreparedEvent } from '../memory/requestChecks.js';

const TRANSPORT_FAILURES = [UnavailableError, DeadlineExceededError, TimeoutError, CancelledError, NotLeaderError] as const;

/** The client's own error class for `error` (raw gRPC errors are converted), or `error` unchanged. */
const asClientError = (error: unknown): unknown => (error instanceof Error ? convertToCommandError(error) : error);

/** The server could not be reached or did not answer in time: the same request may succeed later. */
export function isTransportFailure(error: unknown): boolean {
  const converted = asClientError(error);
  if (TRANSPORT_FAILURES.some((type) => converted instanceof type)) return true;
  return converted instanceof Error && converted.message.startsWith('Failed to discover');
}

/**
 * The port error for a failure of `operation`: every client error becomes StoreUnavailableError
 * (with the original as cause); anything else (the port's own errors, a subscriber's exception, a
 * programming error) passes through unchanged.
 */
export function toStoreError(error: unknown, operation: string): unknown {
  const converted = asClientError(error);
  if (!isTransportFailure(converted) && !(converted instanceof Error && isCommandError(converted))) return error;
  const detail = converted instanceof Error ? converted.message || converted.constructor.name : String(converted);
  return new StoreUnavailableError(`EventStoreDB ${operation} failed: ${detail}`, { cause: converted });
}

/**
 * The server refused an append as larger than its MaxAppendSize (a limit on the whole append, not one
 * event): reported against the largest event, with the batch's size and the server's limit.
 */
export function appendTooLarge(batch: readonly PreparedEvent[], serverLimit: number): EventTooLargeError {
  const sizes = batch.map((p) => ({ eventId: p.event.eventId, bytes: Buffer.byteLength(p.dataJson) + Buffer.byteLength(p.metadataJson) }));
  const largest = sizes.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const total = sizes.reduce((sum, s) => sum + s.bytes, 0);
  return new EventTooLargeError(largest.eventId, total, serverLimit);
}
