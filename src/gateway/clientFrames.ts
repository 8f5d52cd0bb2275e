// Parses what a client sends over the socket: text frames holding one JSON object with an `op`.
// Validation happens here, once, so the op handlers receive typed values only; a bad frame becomes a
// typed error (never an exception) that the connection answers with an error frame.
import { z } from 'zod';
import type { RawData } from 'ws';
import type { MessageKind } from '../domain/events.js';
import { isUuid, isValidClientMsgId } from '../domain/ids.js';
import { SYNC_PAGE } from '../api/routes/sync.js';
import { MAX_SYNC_TOKEN_LENGTH } from '../api/syncToken.js';
import { FrameErrorCode } from './closeCodes.js';

/** Echoed in the reply so a client can match replies to requests. */
const requestId = z.union([z.string().max(128), z.number().int()]);
export type RequestId = z.infer<typeof requestId>;

const MESSAGE_KINDS = ['text', 'image', 'file', 'custom'] as const satisfies readonly MessageKind[];

/** The bounds of `GET /v1/sync` (SYNC_PAGE), so both paths accept the same pages. */
const syncOp = z.strictObject({
  op: z.literal('sync'),
  id: requestId.optional(),
  since: z.string().min(1).max(MAX_SYNC_TOKEN_LENGTH).nullish(),
  limit: z.number().int().min(1).max(SYNC_PAGE.max).optional(),
});

// The same constraints as the REST route's body schema (the domain's validators), so a malformed send
// gets `validation_failed` on both paths and a well-formed one is judged by the same command handler.
const sendOp = z.strictObject({
  op: z.literal('send'),
  id: requestId.optional(),
  conversationId: z.string().refine(isUuid, 'must be a lowercase UUID'),
  clientMsgId: z.string().refine(isValidClientMsgId, 'must be 1 to 64 printable ASCII characters without spaces'),
  kind: z.enum(MESSAGE_KINDS),
  body: z.record(z.string(), z.unknown()),
});

const pingOp = z.strictObject({ op: z.literal('ping'), id: requestId.optional() });

/** Renews the socket's token before it expires (same user only). */
const authOp = z.strictObject({ op: z.literal('auth'), id: requestId.optional(), token: z.string().min(1).max(8192) });

const clientOp = z.discriminatedUnion('op', [syncOp, sendOp, pingOp, authOp]);
export type ClientOp = z.infer<typeof clientOp>;
export type SyncOp = z.infer<typeof syncOp>;
export type SendOp = z.infer<typeof sendOp>;

const KNOWN_OPS: ReadonlySet<string> = new Set(clientOp.options.map((o) => o.shape.op.value));

export type ParsedFrame =
  | { ok: true; op: ClientOp }
  | { ok: false; id: RequestId | null; code: (typeof FrameErrorCode)[keyof typeof FrameErrorCode]; message: string };

export function parseClientFrame(data: RawData, isBinary: boolean): ParsedFrame {
  if (isBinary) return { ok: false, id: null, code: FrameErrorCode.badFrame, message: 'Only text frames are accepted' };
  let value: unknown;
  try {
    value = JSON.parse(rawToString(data));
  } catch {
    return { ok: false, id: null, code: FrameErrorCode.badFrame, message: 'The frame is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, id: null, code: FrameErrorCode.badFrame, message: 'The frame must be a JSON object' };
  }
  const record = value as Record<string, unknown>;
  const id = requestId.safeParse(record.id).data ?? null;
  if (typeof record.op !== 'string' || !KNOWN_OPS.has(record.op)) {
    return { ok: false, id, code: FrameErrorCode.unknownOp, message: `Unknown op; expected one of ${[...KNOWN_OPS].join(', ')}` };
  }
  const parsed = clientOp.safeParse(record);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(frame)'}: ${i.message}`);
    return { ok: false, id, code: FrameErrorCode.invalidRequest, message: issues.join('; ') };
  }
  return { ok: true, op: parsed.data };
}

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
