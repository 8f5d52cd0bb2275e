// The whole service as `missive serve` composes it (src/server/serve.ts: API, gateway, projector, hints)
// listening on a free loopback port, over a fresh test database, for tests that must talk to a real
// server through real HTTP and WebSocket clients. It also opens its own pool on that database so a
// test can count the events in the log exactly (SELECT count(*): committed rows, nothing cached).
import { SignJWT } from 'jose';
import { pino } from 'pino';
import type pg from 'pg';
import { createTokenService } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config/config.js';
import { startServer, type RunningServer } from '../../src/server/serve.js';
import { freePort } from './freePort.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

const JWT = { secret: 'live-server-secret-0123456789abcdef', issuer: 'missive', audience: 'missive' };

export interface LiveServer {
  /** http://127.0.0.1:<port> */
  base: string;
  /** ws://127.0.0.1:<port>/v1/ws */
  wsUrl: string;
  db: TestDatabase;
  tokenFor(userId: string, options?: { admin?: boolean; ttlSeconds?: number }): Promise<string>;
  /** Correctly signed, for a valid user, but its expiry lies in the past. */
  expiredToken(userId: string): Promise<string>;
  /** Every event in the log (all streams), counted in PostgreSQL. */
  eventCount(): Promise<number>;
  close(): Promise<void>;
}

export async function startLiveServer(options: { devAuth?: boolean; env?: Record<string, string> } = {}): Promise<LiveServer> {
  const db = await createTestDatabase({ migrate: false });
  const port = await freePort();
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    MISSIVE_DEV_AUTH: options.devAuth ? 'true' : 'false',
    MISSIVE_JWT_SECRET: JWT.secret,
    MISSIVE_JWT_ISSUER: JWT.issuer,
    MISSIVE_JWT_AUDIENCE: JWT.audience,
    MISSIVE_LOG_LEVEL: 'silent',
    ...options.env,
  });
  let server: RunningServer;
  try {
    server = await startServer(config, { logger: pino({ level: 'silent' }) });
  } catch (error) {
    await db.drop();
    throw error;
  }
  const tokens = createTokenService(JWT);
  const cache = new Map<string, string>();
  return {
    base: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/v1/ws`,
    db,
    async tokenFor(userId, tokenOptions = {}) {
      const key = JSON.stringify([userId, tokenOptions]);
      if (!cache.has(key)) cache.set(key, await tokens.issue(userId, tokenOptions));
      return cache.get(key)!;
    },
    expiredToken: (userId) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuer(JWT.issuer)
        .setAudience(JWT.audience)
        .setIssuedAt(Math.floor(Date.now() / 1000) - 600)
        .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
        .sign(new TextEncoder().encode(JWT.secret)),
    eventCount: () => countEvents(db.pool),
    async close() {
      await server.close();
      await db.drop();
    },
  };
}

export async function countEvents(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM events');
  return Number(rows[0]!.n);
}

/** A JSON request as a client sends it; the answer with its parsed body (JSON or problem+json). */
export async function call(
  base: string,
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const hasBody = options.body !== undefined;
  const response = await fetch(base + path, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(hasBody ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
    ...(hasBody ? { body: typeof options.body === 'string' ? options.body : JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}
