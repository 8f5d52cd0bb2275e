// Finds half-dead sockets (a phone that lost its network keeps a TCP connection "open" for minutes):
// one timer per gateway pings every socket each interval; a socket that missed two pongs in a row is
// terminated without a close handshake (there is nobody to answer it).
import type WebSocket from 'ws';

export const MAX_MISSED_PONGS = 2;

export interface Liveness {
  /** One heartbeat: pings, or reports the socket dead after too many missed pongs. */
  beat(): 'alive' | 'dead';
}

export function trackLiveness(ws: WebSocket): Liveness {
  let missedPongs = 0;
  ws.on('pong', () => {
    missedPongs = 0;
  });
  return {
    beat() {
      if (missedPongs >= MAX_MISSED_PONGS) return 'dead';
      missedPongs += 1;
      if (ws.readyState === ws.OPEN) ws.ping();
      return 'alive';
    },
  };
}

export function startHeartbeat(intervalMs: number, beatAll: () => void): { stop(): void } {
  const timer = setInterval(beatAll, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
