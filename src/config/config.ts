// Reads and validates the configuration once, at start-up. Nothing else in Missive reads process.env:
// every module receives the typed Config (or the part of it it needs).
import { z } from 'zod';
import { parseFailpoints, type FailpointSpec } from '../failpoints/failpoints.js';

const booleanFromEnv = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const positiveInt = z.coerce.number().int().positive();

export const ROLES = ['api', 'gateway', 'projector', 'relay'] as const;
export type Role = (typeof ROLES)[number];

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  MISSIVE_DATA_DIR: z.string().min(1).default('./data'),
  MISSIVE_EMBEDDED_PG_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  MISSIVE_DEV_AUTH: booleanFromEnv.optional(),
  MISSIVE_JWT_SECRET: z.string().min(16).optional(),
  MISSIVE_JWT_PUBLIC_KEY: z.string().min(1).optional(),
  MISSIVE_JWT_JWKS_URL: z.string().url().optional(),
  MISSIVE_JWT_ISSUER: z.string().default('missive'),
  MISSIVE_JWT_AUDIENCE: z.string().default('missive'),
  MISSIVE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.string().url().optional(),
  EVENTSTORE_URL: z.string().min(1).optional(),
  REDIS_URL: z.string().url().optional(),
  KAFKA_BROKERS: z.string().min(1).optional(),
  FANOUT_LIMIT: positiveInt.default(500),
  MISSIVE_EDIT_WINDOW_SECONDS: positiveInt.default(24 * 3600),
  MISSIVE_RECALL_WINDOW_SECONDS: positiveInt.default(24 * 3600),
  MISSIVE_MAX_GROUP_MEMBERS: positiveInt.default(100_000),
  MISSIVE_MAX_BODY_BYTES: positiveInt.default(16 * 1024),
  MISSIVE_ROLES: z.string().optional(),
  MISSIVE_WS_ALLOWED_ORIGINS: z.string().default('*'),
  MISSIVE_NODE_ID: z.string().min(1).optional(),
  // Fault tests only (src/failpoints/README.md): crash, fail or stall at named places.
  MISSIVE_FAILPOINTS: z
    .string()
    .optional()
    .transform((value, ctx): FailpointSpec[] => {
      try {
        return parseFailpoints(value ?? '');
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
});

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  embeddedPgPort: number;
  /** Embedded mode: no DATABASE_URL/EVENTSTORE_URL given, PostgreSQL is started from the npm package. */
  embedded: boolean;
  devAuth: boolean;
  jwt: { secret: string | undefined; publicKey?: string; jwksUrl?: string; issuer: string; audience: string };
  logLevel: string;
  databaseUrl: string | undefined;
  eventStoreUrl: string | undefined;
  redisUrl: string | undefined;
  kafkaBrokers: string[] | undefined;
  fanoutLimit: number;
  limits: DomainLimitsConfig;
  roles: Role[];
  /** Browser origins allowed to open a WebSocket ('*': any). Native clients send no Origin. */
  wsAllowedOrigins: string[] | '*';
  nodeId: string;
  /** Armed failpoints (empty: none, the default). */
  failpoints: FailpointSpec[];
}

export interface DomainLimitsConfig {
  editWindowMs: number;
  recallWindowMs: number;
  maxGroupMembers: number;
  maxBodyBytes: number;
}

export class ConfigError extends Error {
  readonly code = 'config_invalid';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const embedded = !e.DATABASE_URL && !e.EVENTSTORE_URL;
  const roles = parseRoles(e.MISSIVE_ROLES);
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: e.MISSIVE_DATA_DIR,
    embeddedPgPort: e.MISSIVE_EMBEDDED_PG_PORT,
    embedded,
    // The dev login is on by default only in embedded mode, where there is no identity provider yet.
    devAuth: e.MISSIVE_DEV_AUTH ?? embedded,
    jwt: { secret: e.MISSIVE_JWT_SECRET, publicKey: e.MISSIVE_JWT_PUBLIC_KEY, jwksUrl: e.MISSIVE_JWT_JWKS_URL, issuer: e.MISSIVE_JWT_ISSUER, audience: e.MISSIVE_JWT_AUDIENCE },
    logLevel: e.MISSIVE_LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    eventStoreUrl: e.EVENTSTORE_URL,
    redisUrl: e.REDIS_URL,
    kafkaBrokers: e.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean),
    fanoutLimit: e.FANOUT_LIMIT,
    limits: {
      editWindowMs: e.MISSIVE_EDIT_WINDOW_SECONDS * 1000,
      recallWindowMs: e.MISSIVE_RECALL_WINDOW_SECONDS * 1000,
      maxGroupMembers: e.MISSIVE_MAX_GROUP_MEMBERS,
      maxBodyBytes: e.MISSIVE_MAX_BODY_BYTES,
    },
    roles,
    wsAllowedOrigins: parseOrigins(e.MISSIVE_WS_ALLOWED_ORIGINS),
    nodeId: e.MISSIVE_NODE_ID ?? `node-${process.pid}`,
    failpoints: e.MISSIVE_FAILPOINTS,
  };
}

function parseOrigins(value: string): string[] | '*' {
  const origins = value.split(',').map((o) => o.trim()).filter(Boolean);
  return origins.includes('*') ? '*' : origins;
}

export function parseRoles(value: string | undefined): Role[] {
  if (!value) return [...ROLES];
  const roles = value.split(',').map((r) => r.trim()).filter(Boolean);
  const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (unknown.length > 0 || roles.length === 0) {
    throw new ConfigError(`Unknown role(s): ${unknown.join(', ') || '(none)'}; expected some of ${ROLES.join(',')}`);
  }
  return roles as Role[];
}
