// Translates node-postgres failures into the port's typed errors: an unreachable or restarting
// database becomes StoreUnavailableError (retryable), a value PostgreSQL refuses becomes
// InvalidStoreRequestError; anything else is a bug and passes through unchanged.
import { StoreUnavailableError } from '../eventStore.js';
import { InvalidStoreRequestError } from '../memory/requestChecks.js';

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
// admin_shutdown, crash_shutdown, cannot_connect_now, database_dropped, too_many_connections,
// read_only_sql_transaction (a standby after a failover); class 08 (connection exception) below.
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57P04', '53300', '25006']);
const UNAVAILABLE_MESSAGES = [/connection terminated/i, /timeout exceeded when trying to connect/i, /connection.*(closed|ended)/i];

interface ErrorWithCode {
  code?: unknown;
  syscall?: unknown;
  message?: unknown;
  errors?: unknown;
}

/** A Unix-socket DATABASE_URL whose server is down: its socket file is gone, so connect() says ENOENT. */
const isMissingSocket = ({ code, syscall }: ErrorWithCode): boolean => code === 'ENOENT' && syscall === 'connect';

export function isUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message, errors } = error as ErrorWithCode;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'))) return true;
  if (isMissingSocket(error as ErrorWithCode)) return true;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return true;
  // Node reports a failed connect to several addresses as an AggregateError of network errors.
  return Array.isArray(errors) && errors.some(isUnavailable);
}

/** Data exceptions (class 22): a value PostgreSQL cannot store, e.g. a NUL character in text. */
const isRefusedValue = (error: unknown): boolean => typeof (error as ErrorWithCode)?.code === 'string' && String((error as ErrorWithCode).code).startsWith('22');

export function toStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || error instanceof InvalidStoreRequestError) return error;
  if (isUnavailable(error)) {
    return new StoreUnavailableError(`PostgreSQL is unavailable: ${(error as Error).message || String(error)}`, { cause: error });
  }
  if (isRefusedValue(error)) return new InvalidStoreRequestError(`PostgreSQL refused a value: ${(error as Error).message}`, { cause: error });
  return error;
}

/** Runs `operation`, rethrowing its failure as the port's typed error. */
export async function translatingErrors<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw toStoreError(error);
  }
}
