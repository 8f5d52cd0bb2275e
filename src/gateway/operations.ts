// The data ops a client runs over its socket, as the REST API runs them: `send` goes through the same
// CommandService (same validation, same idempotency, same error codes), `sync` reads the same delta as
// GET /v1/sync. Errors become stable codes here; an unexpected error never leaks its internals.
import type pg from 'pg';
import type { CommandService } from '../app/commandService.js';
import { AuthError } from '../auth/tokens.js';
import { answerForError } from '../api/problem.js';
import { SYNC_PAGE } from '../api/routes/sync.js';
import { decodeSyncToken, encodeSyncToken } from '../api/syncToken.js';
import { getDelta } from '../projections/index.js';
import type { DataOp, OpRunner, Session } from './connection.js';
import type { ServerFrame } from './serverFrames.js';

export function createOpRunner(deps: { commands: CommandService; pool: pg.Pool }): OpRunner {
  async function sync(session: Session, op: Extract<DataOp, { op: 'sync' }>): Promise<ServerFrame> {
    const cursor = op.since ? decodeSyncToken(op.since) : null;
    const delta = await getDelta(deps.pool, session.userId, cursor, op.limit ?? SYNC_PAGE.default);
    return {
      type: 'sync.result',
      id: op.id ?? null,
      items: delta.items,
      conversations: delta.conversations,
      unreadTotal: delta.unreadTotal,
      nextToken: encodeSyncToken(delta.nextCursor),
      hasMore: delta.hasMore,
    };
  }

  async function send(session: Session, op: Extract<DataOp, { op: 'send' }>): Promise<ServerFrame> {
    const ctx = { actorId: session.userId, deviceId: session.deviceId, correlationId: session.connectionId };
    const result = await deps.commands.sendMessage(ctx, op.conversationId, { clientMsgId: op.clientMsgId, kind: op.kind, body: op.body });
    return { type: 'send.ack', id: op.id ?? null, ...result };
  }

  return (session, op) => (op.op === 'sync' ? sync(session, op) : send(session, op));
}

export interface DescribedError {
  code: string;
  message: string;
  details?: Record<string, unknown>;
  /** Not the client's doing: worth a log line with the stack. */
  unexpected: boolean;
}

/**
 * The same mapping as REST (src/api/problem.ts), so a refusal carries the same code on both paths;
 * an unknown error becomes internal_error and never shows its internals.
 */
export function describeOpError(error: unknown): DescribedError {
  const { problem, unexpected } = answerForError(error);
  const message = problem.code === 'resync_required' ? `${String((error as Error).message)}: sync again without \`since\`` : problem.detail;
  return { code: problem.code, message, ...(problem.details && { details: problem.details }), unexpected };
}

/** The client's fault (401 with this code) or null: AuthUnavailableError and the rest are ours (503). */
export function authErrorCode(error: unknown): string | null {
  return error instanceof AuthError ? error.code : null;
}
