// The frames the gateway sends. The sync hint is the same bytes for every device of every user, so it
// is serialised once, at load time: fanning a hint out costs no JSON work per recipient.
import type { RequestId } from './clientFrames.js';

/**
 * The hint carries no token (`token: null`): the device pulls with the token it stored from its last
 * pull, which is the only position the gateway could vouch for anyway (see docs/websocket.md).
 */
export const SYNC_HINT_FRAME: Buffer = Buffer.from(JSON.stringify({ type: 'sync', token: null }));

export interface ErrorFrame {
  type: 'error';
  id: RequestId | null;
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

export type ServerFrame = ErrorFrame | ({ type: string; id?: RequestId | null } & Record<string, unknown>);

export function errorFrame(id: RequestId | null, code: string, message: string, details?: Record<string, unknown>): ErrorFrame {
  return details ? { type: 'error', id, code, message, details } : { type: 'error', id, code, message };
}
