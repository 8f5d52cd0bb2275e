// The gateway's Prometheus metrics, registered in the registry the caller gives (the one /metrics
// serves), so the gateway never touches prom-client's global default registry.
import { Counter, Gauge, Registry } from 'prom-client';

export interface GatewayMetrics {
  hintsSent: Counter;
  hintsDropped: Counter;
  /** Sockets closed, by who or what closed them (see closeCodes.ts and docs/websocket.md). */
  closes: Counter<'reason'>;
  /** Upgrade requests answered with an HTTP error instead of a socket, by error code. */
  upgradesRefused: Counter<'code'>;
}

export function createGatewayMetrics(registry: Registry, counts: { sockets(): number; users(): number }): GatewayMetrics {
  const registers = [registry];
  new Gauge({
    name: 'missive_gateway_open_sockets',
    help: 'WebSocket connections open on this node',
    registers,
    collect() {
      this.set(counts.sockets());
    },
  });
  new Gauge({
    name: 'missive_gateway_connected_users',
    help: 'Distinct users with at least one open WebSocket on this node',
    registers,
    collect() {
      this.set(counts.users());
    },
  });
  return {
    hintsSent: new Counter({ name: 'missive_gateway_hints_sent_total', help: 'Sync hints written to sockets', registers }),
    hintsDropped: new Counter({
      name: 'missive_gateway_hints_dropped_total',
      help: 'Sync hints dropped because the socket was over its outbound buffer limit',
      registers,
    }),
    closes: new Counter({ name: 'missive_gateway_closes_total', help: 'WebSocket connections closed', labelNames: ['reason'], registers }),
    upgradesRefused: new Counter({
      name: 'missive_gateway_upgrades_refused_total',
      help: 'WebSocket upgrade requests refused before the handshake',
      labelNames: ['code'],
      registers,
    }),
  };
}
