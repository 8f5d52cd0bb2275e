// The opaque sync token a device keeps (DESIGN.md §5): the projections' SyncCursor as base64url JSON.
// Clients must not parse it; we still validate every decoded field, because a token is client input.
import { z } from 'zod';
import type { SyncCursor } from '../projections/types.js';

export type { SyncCursor };

/** A token this service did not issue (or damaged in transit): answer 400 `invalid_sync_token`. */
export class InvalidSyncTokenError extends Error {
  readonly code = 'invalid_sync_token';
  constructor(message = 'The sync token is not one this service issued') {
    super(message);
  }
}

/** Tokens are small; anything much larger is not ours and is refused before decoding. */
export const MAX_SYNC_TOKEN_LENGTH = 16 * 1024;

const counter = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const cursorSchema = z.strictObject({
  inboxSeq: counter,
  groups: z.record(z.string().regex(UUID), counter),
  epoch: counter,
});

export function encodeSyncToken(cursor: SyncCursor): string {
  const canonical: SyncCursor = { inboxSeq: cursor.inboxSeq, groups: cursor.groups, epoch: cursor.epoch };
  return Buffer.from(JSON.stringify(canonical), 'utf8').toString('base64url');
}

export function decodeSyncToken(token: string): SyncCursor {
  if (token.length === 0 || token.length > MAX_SYNC_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token)) {
    throw new InvalidSyncTokenError();
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidSyncTokenError();
  }
  const parsed = cursorSchema.safeParse(json);
  if (!parsed.success) throw new InvalidSyncTokenError();
  return parsed.data;
}
