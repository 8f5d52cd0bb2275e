// One open socket of one user's device: reads the client's ops in order and answers them in the same
// order, pushes hints through the backpressure-aware outbound flow, and closes itself when its token
// expires, when it is stuck, or when asked to. Everything it holds is released on 'close'.
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import type { Logger } from 'pino';
import { parseClientFrame, type ClientOp, type RequestId } from './clientFrames.js';
import { CloseCode, CloseReason } from './closeCodes.js';
import { createDeadlineTimer } from './deadlineTimer.js';
import { trackLiveness } from './heartbeat.js';
import { createOutboundFlow, type HintOutcome } from './outboundFlow.js';
import { createReadGate } from './readGate.js';
import { errorFrame, type ServerFrame } from './serverFrames.js';
import type { Identity, TokenVerifier } from './upgradeAuth.js';

/** Who is asking: what the operations need to act on the user's behalf. */
export interface Session {
  connectionId: string;
  userId: string;
  deviceId: string | undefined;
}

export type DataOp = Extract<ClientOp, { op: 'sync' | 'send' }>;

/** Runs the data ops (send, sync); throws typed errors that `describeError` turns into error frames. */
export type OpRunner = (session: Session, op: DataOp) => Promise<ServerFrame>;

export interface ConnectionOptions {
  id: string;
  ws: WebSocket;
  socket: Duplex;
  identity: Identity;
  deviceId: string | undefined;
  maxBufferedBytes: number;
  stuckMs: number;
  /** Ops waiting for their turn beyond which the client's frames are not read. */
  maxQueuedOps: number;
  runOp: OpRunner;
  /** Stable code and safe message for an error thrown by an op or by token verification. */
  describeError: (error: unknown) => { code: string; message: string; details?: Record<string, unknown>; unexpected: boolean };
  tokens: TokenVerifier;
  logger: Logger;
  now: () => number;
  /** Called once, when the socket has closed, with the reason for the metrics. */
  onClosed: (connection: Connection, reason: string) => void;
}

export interface Connection extends Session {
  readonly id: string;
  sendHint(frame: Buffer): HintOutcome;
  /** One heartbeat tick: pings, or terminates a socket that missed too many pongs. */
  beat(): void;
  close(code: number, reason: string): void;
  /** Settles once the socket has closed (and onClosed ran). */
  readonly closed: Promise<void>;
}

export function openConnection(options: ConnectionOptions): Connection {
  const { ws, logger } = options;
  const userId = options.identity.userId;
  const session: Session = { connectionId: options.id, userId, deviceId: options.deviceId };
  let closeReason: string | null = null;
  let markClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => (markClosed = resolve));

  const readGate = createReadGate(ws);
  const flow = createOutboundFlow({
    ws,
    socket: options.socket,
    readGate,
    maxBufferedBytes: options.maxBufferedBytes,
    stuckMs: options.stuckMs,
    onStuck: () => close(CloseCode.slowConsumer, CloseReason.slowConsumer),
  });
  const liveness = trackLiveness(ws);
  const expiry = createDeadlineTimer(
    options.identity.expiresAt,
    () => close(CloseCode.tokenExpired, CloseReason.tokenExpired),
    options.now,
  );

  function close(code: number, reason: string): void {
    if (closeReason !== null) return;
    closeReason = reason;
    logger.debug({ code, reason }, 'closing socket');
    ws.close(code, reason);
    // Read again (a congested socket was paused) so the client's close frame can complete the
    // handshake; frames that still arrive are ignored.
    ws.resume();
  }

  // Replies leave in request order: each op waits for the previous one.
  let queued = 0;
  let tail: Promise<void> = Promise.resolve();
  function enqueue(id: RequestId | null, produce: () => ServerFrame | Promise<ServerFrame>): void {
    queued += 1;
    if (queued >= options.maxQueuedOps) readGate.hold('ops_queued');
    tail = tail
      .then(() => answer(id, produce))
      .catch((error: unknown) => logger.error({ err: error }, 'reply failed'))
      .finally(() => {
        queued -= 1;
        if (queued < options.maxQueuedOps) readGate.release('ops_queued');
      });
  }

  /** Every op gets exactly one reply frame, whatever it throws (serialising included). */
  async function answer(id: RequestId | null, produce: () => ServerFrame | Promise<ServerFrame>): Promise<void> {
    let text: string;
    try {
      text = JSON.stringify(await produce());
    } catch (error) {
      text = JSON.stringify(failureFrame(id, error));
    }
    flow.sendReply(text);
  }

  function failureFrame(id: RequestId | null, error: unknown): ServerFrame {
    const { code, message, details, unexpected } = options.describeError(error);
    if (unexpected) logger.error({ err: error }, 'op failed');
    return errorFrame(id, code, message, details);
  }

  async function renewToken(id: RequestId | null, token: string): Promise<ServerFrame> {
    const renewed = await options.tokens.verify(token);
    if (renewed.userId !== userId) {
      close(CloseCode.unauthorized, CloseReason.unauthorized);
      return errorFrame(id, 'unauthorized', 'The token belongs to another user');
    }
    expiry.moveTo(renewed.expiresAt);
    return { type: 'auth.ok', id, expiresAt: new Date(renewed.expiresAt).toISOString() };
  }

  function dispatch(op: ClientOp): ServerFrame | Promise<ServerFrame> {
    const id = op.id ?? null;
    if (op.op === 'ping') return { type: 'pong', id };
    if (op.op === 'auth') return renewToken(id, op.token);
    return options.runOp(session, op);
  }

  ws.on('message', (data, isBinary) => {
    if (closeReason !== null) return;
    const parsed = parseClientFrame(data, isBinary);
    if (parsed.ok) enqueue(parsed.op.id ?? null, () => dispatch(parsed.op));
    else enqueue(parsed.id, () => errorFrame(parsed.id, parsed.code, parsed.message));
  });
  ws.on('error', (error) => logger.debug({ err: error }, 'socket error'));
  ws.once('close', (code) => {
    expiry.cancel();
    flow.dispose();
    const reason = closeReason ?? (code === CloseCode.messageTooBig ? 'message_too_big' : 'client');
    logger.debug({ code, reason }, 'socket closed');
    options.onClosed(connection, reason);
    markClosed();
  });

  const connection: Connection = {
    ...session,
    id: options.id,
    sendHint: (frame) => flow.offerHint(frame),
    beat() {
      if (closeReason !== null || liveness.beat() === 'alive') return;
      closeReason = 'heartbeat';
      ws.terminate();
    },
    close,
    closed,
  };
  return connection;
}
