// The outbound side of one socket under backpressure. Hints are optional (a later pull catches up), so
// a hint that finds the buffer over the limit is dropped rather than queued; replies are owed to the
// client, so they are sent, but the client's further requests are not read until the buffer drains.
// A socket that stays over the limit for `stuckMs` is reported stuck (the connection closes it).
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import type { ReadGate } from './readGate.js';

export interface OutboundFlowOptions {
  ws: WebSocket;
  /** The raw socket under ws: its 'drain' tells when the kernel took the backlog. */
  socket: Duplex;
  readGate: ReadGate;
  maxBufferedBytes: number;
  stuckMs: number;
  onStuck: () => void;
}

export type HintOutcome = 'sent' | 'dropped' | 'closed';

export interface OutboundFlow {
  /** Sends the hint unless the socket is congested ('dropped') or closing ('closed'). */
  offerHint(frame: Buffer): HintOutcome;
  sendReply(text: string): void;
  dispose(): void;
}

export function createOutboundFlow(options: OutboundFlowOptions): OutboundFlow {
  const { ws, socket, readGate, maxBufferedBytes, stuckMs } = options;
  let stuckTimer: NodeJS.Timeout | null = null;

  const isOpen = () => ws.readyState === ws.OPEN;
  const congested = () => ws.bufferedAmount > maxBufferedBytes;

  function noteCongestion(): void {
    readGate.hold('congested');
    stuckTimer ??= setTimeout(checkStillStuck, stuckMs);
  }

  function checkStillStuck(): void {
    stuckTimer = null;
    if (!isOpen()) return;
    if (congested()) options.onStuck();
    else clearCongestion();
  }

  function clearCongestion(): void {
    if (stuckTimer) clearTimeout(stuckTimer);
    stuckTimer = null;
    readGate.release('congested');
  }

  const onDrain = () => {
    if (isOpen() && !congested()) clearCongestion();
  };
  socket.on('drain', onDrain);

  return {
    offerHint(frame) {
      if (!isOpen()) return 'closed';
      if (congested()) {
        noteCongestion();
        return 'dropped';
      }
      ws.send(frame, { binary: false });
      return 'sent';
    },
    sendReply(text) {
      if (!isOpen()) return;
      ws.send(text);
      if (congested()) noteCongestion();
    },
    dispose() {
      if (stuckTimer) clearTimeout(stuckTimer);
      stuckTimer = null;
      socket.off('drain', onDrain);
    },
  };
}
