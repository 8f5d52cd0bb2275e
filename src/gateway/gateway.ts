// The WebSocket gateway (DESIGN.md §5, docs/websocket.md): it shares the HTTP server with the REST API,
// authenticates each upgrade before the handshake, keeps the sockets of many devices per user, pushes
// coalesced "sync" hints when a user's views advanced, answers sync/send ops inline, and tracks presence.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import type pg from 'pg';
import type { CommandService } from '../app/commandService.js';
import { CloseCode, CloseReason } from './closeCodes.js';
import { openConnection, type Connection } from './connection.js';
import { createConnectionRegistry } from './connectionRegistry.js';
import { startHeartbeat } from './heartbeat.js';
import { createHintCoalescer } from './hintCoalescer.js';
import { createGatewayMetrics } from './metrics.js';
import { createOpRunner, describeOpError, authErrorCode } from './operations.js';
import { createMemoryPresenceStore, type PresenceEntry, type PresenceStore } from './presence.js';
import { SYNC_HINT_FRAME } from './serverFrames.js';
import { checkUpgrade, createOriginPolicy, refuseUpgrade, selectProtocol, type Identity, type TokenVerifier } from './upgradeAuth.js';

export const GATEWAY_PATH = '/v1/ws';

export interface GatewayDeps {
  tokens: TokenVerifier;
  commands: CommandService;
  /** The read models' pool: `op: "sync"` reads the delta from it. */
  pool: pg.Pool;
  /** Browser origins allowed to open a socket; '*' allows any (requests without Origin are always allowed). */
  allowedOrigins: readonly string[] | '*';
  nodeId: string;
  heartbeatMs?: number;
  /** Largest frame a client may send (ws closes with 1009 above it). */
  maxFrameBytes?: number;
  /** Window over which notices for one user become one hint per device. */
  coalesceMs?: number;
  /** A socket whose outbound buffer exceeds this gets hints dropped and its requests unread. */
  maxBufferedBytes?: number;
  /** How long a socket may stay over maxBufferedBytes before it is closed with 4008. */
  stuckMs?: number;
  /** How long a closing handshake may take before the socket is destroyed. */
  closeTimeoutMs?: number;
  maxQueuedOps?: number;
  /** Where presence and this node's socket routes are kept (default: this process's memory). */
  presence?: PresenceStore;
  /** How often this node proves itself alive to the presence store (well under the store's ttl). */
  presenceHeartbeatMs?: number;
  metrics?: Registry;
  logger?: Logger;
  now?: () => number;
}

export interface Gateway {
  /** Handles 'upgrade' for GATEWAY_PATH on this server; refusals are answered before the handshake. */
  attach(server: http.Server): void;
  /** These users' views advanced: hint each of their devices connected to this node (coalesced). */
  notifyUsers(userIds: Iterable<string>): void;
  presence: { get(userIds: readonly string[]): Promise<PresenceEntry[]> };
  connectedUsers(): number;
  /** Closes every socket with 1001 and stops accepting upgrades. */
  close(): Promise<void>;
}

export const GATEWAY_DEFAULTS = {
  heartbeatMs: 25_000,
  maxFrameBytes: 64 * 1024,
  coalesceMs: 5,
  maxBufferedBytes: 1024 * 1024,
  stuckMs: 10_000,
  closeTimeoutMs: 5_000,
  maxQueuedOps: 32,
  presenceHeartbeatMs: 5_000,
} as const;

export function createGateway(deps: GatewayDeps): Gateway {
  const settings = resolveSettings(deps);
  const now = deps.now ?? Date.now;
  const logger = (deps.logger ?? pino({ level: 'silent' })).child({ component: 'gateway', nodeId: deps.nodeId });
  const presence = deps.presence ?? createMemoryPresenceStore(now);
  const registry = createConnectionRegistry<Connection>();
  const metrics = createGatewayMetrics(deps.metrics ?? new Registry(), {
    sockets: registry.socketCount,
    users: registry.userCount,
  });
  const originAllowed = createOriginPolicy(deps.allowedOrigins);
  const runOp = createOpRunner({ commands: deps.commands, pool: deps.pool });
  // ws's closeTimeout is missing from @types/ws; it bounds how long a stuck socket's close may take.
  const serverOptions: ServerOptions & { closeTimeout: number } = {
    noServer: true,
    maxPayload: settings.maxFrameBytes,
    perMessageDeflate: false,
    handleProtocols: selectProtocol,
    closeTimeout: settings.closeTimeoutMs,
  };
  const wss = new WebSocketServer(serverOptions);
  let closing = false;
  let closed: Promise<void> | null = null;

  const heartbeat = startHeartbeat(settings.heartbeatMs, () => {
    for (const connection of registry.all()) connection.beat();
  });

  // Presence writes in flight; close() waits for them before leaving the store.
  const presenceWrites = new Set<Promise<void>>();
  function trackPresence(write: Promise<void>): Promise<void> {
    const tracked = write.catch(logPresenceError);
    presenceWrites.add(tracked);
    void tracked.finally(() => presenceWrites.delete(tracked));
    return tracked;
  }

  let beating = false;
  const presenceBeat = startHeartbeat(settings.presenceHeartbeatMs, () => {
    if (beating || closing) return;
    beating = true;
    void presence
      .heartbeat()
      .then(({ rejoined }) => (rejoined ? rejoin() : undefined))
      .catch(logPresenceError)
      .finally(() => (beating = false));
  });

  // The store forgot this node (a Redis that restarted empty, or a pause longer than its ttl): register
  // every open socket again, and hint them all, since hints routed meanwhile went nowhere.
  async function rejoin(): Promise<void> {
    logger.warn({ sockets: registry.socketCount() }, 'presence store had forgotten this node; registering its sockets again');
    const open = [...registry.all()];
    const stillOpen = (c: Connection) => registry.devicesOf(c.userId)?.has(c) === true;
    await Promise.all(
      open.map((c) =>
        trackPresence(
          // A socket that closed while being re-registered must not stay registered.
          presence.deviceConnected(c.userId, c.id, now()).then(() => (stillOpen(c) ? undefined : presence.deviceDisconnected(c.userId, c.id, now()))),
        ),
      ),
    );
    coalescer.add(open.map((c) => c.userId));
  }

  const coalescer = createHintCoalescer(settings.coalesceMs, (userIds) => {
    for (const userId of userIds) {
      for (const device of registry.devicesOf(userId) ?? []) {
        const outcome = device.sendHint(SYNC_HINT_FRAME);
        if (outcome === 'sent') metrics.hintsSent.inc();
        else if (outcome === 'dropped') metrics.hintsDropped.inc();
      }
    }
  });

  function refuse(socket: Duplex, status: number, code: string): void {
    metrics.upgradesRefused.inc({ code });
    refuseUpgrade(socket, status, code);
  }

  async function onUpgrade(server: http.Server, req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    if (url.pathname !== GATEWAY_PATH) {
      // Another upgrade handler may own this path; when we are alone, nobody else will answer.
      if (server.listenerCount('upgrade') === 1) refuse(socket, 404, 'not_found');
      return;
    }
    // Until ws takes the socket over, a reset during verification must not crash the process.
    socket.on('error', (error) => logger.debug({ err: error }, 'upgrade socket error'));
    if (closing) return refuse(socket, 503, 'shutting_down');
    const decision = await checkUpgrade(req, url, { tokens: deps.tokens, originAllowed, authErrorCode, now });
    if (!decision.ok) return refuse(socket, decision.status, decision.code);
    if (socket.destroyed) return;
    if (closing) return refuse(socket, 503, 'shutting_down');
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, socket, decision.identity, decision.deviceId));
  }

  function accept(ws: WebSocket, socket: Duplex, identity: Identity, deviceId: string | undefined): void {
    const id = randomUUID();
    const registered = trackPresence(presence.deviceConnected(identity.userId, id, now()));
    const connection = openConnection({
      id,
      ws,
      socket,
      identity,
      deviceId,
      maxBufferedBytes: settings.maxBufferedBytes,
      stuckMs: settings.stuckMs,
      maxQueuedOps: settings.maxQueuedOps,
      runOp,
      describeError: describeOpError,
      tokens: deps.tokens,
      logger: logger.child({ connectionId: id, userId: identity.userId }),
      now,
      onClosed: (closed, reason) => {
        registry.remove(closed);
        metrics.closes.inc({ reason });
        // After the registration, so a quick disconnect cannot overtake it in the store.
        const at = now();
        void trackPresence(registered.then(() => presence.deviceDisconnected(closed.userId, closed.id, at)));
      },
    });
    registry.add(connection);
  }

  async function closeAll(): Promise<void> {
    heartbeat.stop();
    presenceBeat.stop();
    coalescer.stop();
    const open = [...registry.all()];
    for (const connection of open) connection.close(CloseCode.goingAway, CloseReason.goingAway);
    // Bounded: a socket that does not answer the close frame is destroyed after closeTimeoutMs.
    await Promise.all(open.map((connection) => connection.closed));
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await Promise.all([...presenceWrites]);
    // Other nodes stop routing hints here now, not when this node's heartbeat would have expired.
    await presence.leave().catch(logPresenceError);
  }

  function logPresenceError(error: unknown): void {
    logger.warn({ err: error }, 'presence store failed');
  }

  return {
    attach(server) {
      server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
        onUpgrade(server, req, socket, head).catch((error: unknown) => {
          logger.error({ err: error }, 'upgrade failed');
          refuse(socket, 500, 'internal_error');
        });
      });
    },
    notifyUsers(userIds) {
      if (closing) return;
      const online: string[] = [];
      for (const userId of userIds) if (registry.hasUser(userId)) online.push(userId);
      coalescer.add(online);
    },
    presence: { get: (userIds) => presence.get(userIds) },
    connectedUsers: () => registry.userCount(),
    close() {
      closing = true;
      closed ??= closeAll();
      return closed;
    },
  };
}

type GatewaySettings = { -readonly [K in keyof typeof GATEWAY_DEFAULTS]: number };

function resolveSettings(deps: GatewayDeps): GatewaySettings {
  const settings: GatewaySettings = { ...GATEWAY_DEFAULTS };
  for (const key of Object.keys(GATEWAY_DEFAULTS) as Array<keyof GatewaySettings>) {
    const value = deps[key];
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value < 0) throw new RangeError(`Gateway setting ${key} must be a non-negative number`);
    settings[key] = value;
  }
  return settings;
}
