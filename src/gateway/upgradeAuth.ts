// Decides, before any WebSocket handshake, whether an upgrade request may become a socket: its Origin
// must be allowed and a valid token must come with it. A refusal is a plain HTTP answer written on the
// raw socket (401/403/...), so a refused client never holds an open WebSocket, not even briefly.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { isValidDeviceId } from '../domain/ids.js';
import { isCatalogued, PROBLEM_TYPE_PREFIX } from '../api/errors.js';
import { DEVICE_HEADER } from '../api/plugins/auth.js';
import { PROBLEM_CONTENT_TYPE, problemOf } from '../api/problem.js';

/** The application subprotocol; the server selects it whenever the client offers it. */
export const APP_PROTOCOL = 'missive.v1';
/** A subprotocol `missive.bearer.<token>` carries the token for clients that cannot set headers. */
export const BEARER_PROTOCOL_PREFIX = 'missive.bearer.';
export const TOKEN_QUERY_PARAM = 'access_token';
export const DEVICE_QUERY_PARAM = 'deviceId';

export interface Identity {
  userId: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** What the gateway needs from the token service (src/auth/tokens.ts satisfies it). */
export interface TokenVerifier {
  verify(token: string): Promise<Identity>;
}

export type UpgradeDecision =
  | { ok: true; identity: Identity; deviceId: string | undefined }
  | { ok: false; status: number; code: string };

export interface UpgradeCheckOptions {
  tokens: TokenVerifier;
  originAllowed: (origin: string | undefined) => boolean;
  /** Maps a verification failure to its stable code, or null when it is not an authentication failure. */
  authErrorCode: (error: unknown) => string | null;
  now: () => number;
}

export async function checkUpgrade(req: http.IncomingMessage, url: URL, options: UpgradeCheckOptions): Promise<UpgradeDecision> {
  if (!options.originAllowed(req.headers.origin)) return { ok: false, status: 403, code: 'origin_not_allowed' };
  const deviceId = deviceIdFromRequest(req, url);
  if (deviceId !== undefined && !isValidDeviceId(deviceId)) return { ok: false, status: 400, code: 'validation_failed' };
  const token = tokenFromRequest(req, url);
  if (!token) return { ok: false, status: 401, code: 'unauthorized' };
  let identity: Identity;
  try {
    identity = await options.tokens.verify(token);
  } catch (error) {
    const code = options.authErrorCode(error);
    // Anything else (a key set that cannot be fetched...) is our failure, not the client's.
    return code ? { ok: false, status: 401, code } : { ok: false, status: 503, code: 'auth_unavailable' };
  }
  if (identity.expiresAt <= options.now()) return { ok: false, status: 401, code: 'token_expired' };
  return { ok: true, identity, deviceId };
}

/** The device id as REST takes it (the X-Device-Id header), or `?deviceId=` for browsers. */
function deviceIdFromRequest(req: http.IncomingMessage, url: URL): string | undefined {
  const header = req.headers[DEVICE_HEADER];
  if (typeof header === 'string') return header;
  return url.searchParams.get(DEVICE_QUERY_PARAM) ?? undefined;
}

/** The token, looked for in this order: `Authorization: Bearer`, the bearer subprotocol, `?access_token=`. */
export function tokenFromRequest(req: http.IncomingMessage, url: URL): string | null {
  const authorization = req.headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    return match?.[1] ?? null;
  }
  const fromProtocol = offeredProtocols(req).find((p) => p.startsWith(BEARER_PROTOCOL_PREFIX));
  if (fromProtocol) return fromProtocol.slice(BEARER_PROTOCOL_PREFIX.length) || null;
  return url.searchParams.get(TOKEN_QUERY_PARAM) || null;
}

function offeredProtocols(req: http.IncomingMessage): string[] {
  const header = req.headers['sec-websocket-protocol'];
  return header ? header.split(',').map((p) => p.trim()) : [];
}

/** Never echoes the bearer subprotocol (it holds the token): only the application protocol is selected. */
export function selectProtocol(offered: Set<string>): string | false {
  return offered.has(APP_PROTOCOL) ? APP_PROTOCOL : false;
}

/**
 * Origin policy against cross-site WebSocket hijacking. Browsers always send Origin, so a request
 * without one comes from a native client and is allowed; a present Origin must be on the list.
 */
export function createOriginPolicy(allowed: readonly string[] | '*'): (origin: string | undefined) => boolean {
  if (allowed === '*') return () => true;
  const origins = new Set(allowed.map(normaliseOrigin));
  return (origin) => origin === undefined || origins.has(normaliseOrigin(origin));
}

function normaliseOrigin(origin: string): string {
  if (origin === 'null') return origin;
  try {
    return new URL(origin).origin;
  } catch {
    return origin;
  }
}

/** Answers the upgrade request with a problem+json error (the REST shape) and closes the raw socket. */
export function refuseUpgrade(socket: Duplex, status: number, code: string): void {
  if (socket.destroyed) return;
  const title = isCatalogued(code) ? problemOf(code).title : (http.STATUS_CODES[status] ?? 'Error');
  const body = JSON.stringify({ type: `${PROBLEM_TYPE_PREFIX}${code}`, title, status, code, detail: title });
  const headers = [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...(status === 401 ? ['WWW-Authenticate: Bearer error="invalid_token"'] : []),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`);
}
