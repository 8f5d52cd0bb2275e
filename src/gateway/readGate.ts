// Stops reading a client's frames while any reason holds (its outbound buffer is full, too many of its
// ops are queued): TCP flow control then pushes back on the client instead of our memory growing.
import type WebSocket from 'ws';

export type ReadHoldReason = 'congested' | 'ops_queued';

export interface ReadGate {
  hold(reason: ReadHoldReason): void;
  release(reason: ReadHoldReason): void;
}

export function createReadGate(ws: WebSocket): ReadGate {
  const reasons = new Set<ReadHoldReason>();
  return {
    hold(reason) {
      if (reasons.size === 0) ws.pause();
      reasons.add(reason);
    },
    release(reason) {
      if (!reasons.delete(reason) || reasons.size > 0) return;
      if (ws.readyState === ws.OPEN) ws.resume();
    },
  };
}
