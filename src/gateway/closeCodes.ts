// The WebSocket close codes and error-frame codes the gateway uses: one list, so the docs
// (docs/websocket.md), the clients and the code agree. 4xxx codes are application codes (RFC 6455 §7.4.2).

export const CloseCode = {
  /** The gateway is shutting down; reconnect (to another node). */
  goingAway: 1001,
  /** A frame larger than the maximum frame size (sent by ws itself). */
  messageTooBig: 1009,
  /** The token the socket was opened with (or renewed with) expired. */
  tokenExpired: 4001,
  /** An `auth` op presented a token of another user: a socket belongs to one user. */
  unauthorized: 4002,
  /** The client did not read its socket: the outbound buffer stayed above the limit for too long. */
  slowConsumer: 4008,
} as const;

/** The reason string sent with each application close (the close frame's text). */
export const CloseReason = {
  goingAway: 'going_away',
  tokenExpired: 'token_expired',
  unauthorized: 'unauthorized',
  slowConsumer: 'slow_consumer',
} as const;

/**
 * Codes of `{type:"error"}` frames that come from the gateway itself; errors of the operations
 * (send, sync) carry the same codes as the REST API (e.g. `not_a_member`, `resync_required`).
 */
export const FrameErrorCode = {
  /** Not a text frame holding a JSON object. */
  badFrame: 'bad_frame',
  /** A JSON object whose `op` the gateway does not know. */
  unknownOp: 'unknown_op',
  /** A known op with missing, mistyped or unknown fields (the REST code for a schema mismatch). */
  invalidRequest: 'validation_failed',
  /** An unexpected failure; the op may be retried (sends are idempotent by clientMsgId). */
  internal: 'internal_error',
} as const;
