// Reads and validates the configuration once, at start-up. Nothing else in Missive reads process.env:
// every module receives the typed Config (or the part of it it needs).
import { randomUUID } from 'node:crypto';
import os from 'node:os';
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
  KAFKA_BROKERS: z
    .string()
    .regex(/^\s*[^\s,:]+:\d{1,5}\s*(,\s*[^\s,:]+:\d{1,5}\s*)*$/, 'expected host:port[,host:port...]')
    .optional(),
  MISSIVE_KAFKA_TOPIC: z.string().regex(/^[a-zA-Z0-9._-]{1,249}$/, 'a Kafka topic name').default('missive.events'),
  MISSIVE_KAFKA_PARTITIONS: positiveInt.max(10_000).default(12),
  MISSIVE_KAFKA_GROUP: z.string().min(1).default('missive-projectors'),
  FANOUT_LIMIT: positiveInt.default(500),
  MISSIVE_EDIT_WINDOW_SECONDS: positiveInt.default(24 * 3600),
  MISSIVE_RECALL_WINDOW_SECONDS: positiveInt.default(24 * 3600),
  MISSIVE_MAX_GROUP_MEMBERS: positiveInt.default(100_000),
  MISSIVE_MAX_BODY_BYTES: positiveInt.default(16 * 1024),
  // Requests per user (per client IP before authentication) per minute; 429 rate_limited past it.
  MISSIVE_RATE_LIMIT_PER_MINUTE: positiveInt.default(1_200),
  MISSIVE_ROLES: z.string().optional(),
  MISSIVE_WS_ALLOWED_ORIGINS: z.string().default('*'),
  MISSIVE_NODE_ID: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits and _ . : - only, at most 64').optional(),
  MISSIVE_HOT_ITEMS: positiveInt.default(200),
  MISSIVE_HOT_MAX_AGE_DAYS: positiveInt.default(7),
  MISSIVE_HOT_KEY_PREFIX: z.string().regex(/^\{[^{}]+\}[^{}]*$/, 'must start with a {hash tag}, e.g. {missive:hot}').default('{missive:hot}'),
  MISSIVE_WARM_RETENTION_DAYS: positiveInt.default(90),
  MISSIVE_TIER_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(3600),
  MISSIVE_PRESENCE_TTL_MS: z.coerce.number().int().min(300).default(15_000),
  MISSIVE_REDIS_KEY_PREFIX: z.string().min(1).max(100).default('missive:gw:'),
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
  /** The bus between roles (docs/distributed.md): the events topic, its partitions when created here, the projectors' group. */
  kafka: { topic: string; partitions: number; groupId: string };
  fanoutLimit: number;
  limits: DomainLimitsConfig;
  roles: Role[];
  /** Browser origins allowed to open a WebSocket ('*': any). Native clients send no Origin. */
  wsAllowedOrigins: string[] | '*';
  nodeId: string;
  tiers: TiersConfig;
  /** A gateway node silent for this long is dead: its routes and presence expire (heartbeat every third of it). */
  presenceTtlMs: number;
  /** Prefix of the presence and routing keys and hint channels in Redis (deployments sharing one Redis differ here). */
  redisKeyPrefix: string;
  /** Requests per user (per client IP before authentication) per minute. */
  rateLimitPerMinute: number;
  /** Armed failpoints (empty: none, the default). */
  failpoints: FailpointSpec[];
}

/** History tiers (DESIGN.md §6, docs/tiers.md). */
export interface TiersConfig {
  /** Items kept per conversation in the hot tier. */
  hotItems: number;
  hotMaxAgeDays: number;
  /** Redis key prefix of the hot tier (starts with a {hash tag}). */
  hotKeyPrefix: string;
  warmRetentionDays: number;
  /** How often `serve` runs the tiering job, s; 0 turns the schedule off. */
  intervalSeconds: number;
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
  const issues = parsed.success ? [] : parsed.error.issues.map((i) => ({ key: i.path.join('.'), message: `${i.path.join('.')}: ${i.message}` }));
  // Cross-checks on the raw values, except for variables already reported as malformed.
  const flagged = new Set(issues.map((i) => i.key));
  const problems = [...issues, ...adapterProblems(env).filter((p) => !flagged.has(p.key))];
  if (problems.length === 1) throw new ConfigError(`Invalid configuration: ${problems[0]!.message}`);
  if (problems.length > 1 || !parsed.success) throw new ConfigError(`Invalid configuration:\n${problems.map((p) => `  ${p.message}`).join('\n')}`);
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
    kafka: { topic: e.MISSIVE_KAFKA_TOPIC, partitions: e.MISSIVE_KAFKA_PARTITIONS, groupId: e.MISSIVE_KAFKA_GROUP },
    fanoutLimit: e.FANOUT_LIMIT,
    limits: {
      editWindowMs: e.MISSIVE_EDIT_WINDOW_SECONDS * 1000,
      recallWindowMs: e.MISSIVE_RECALL_WINDOW_SECONDS * 1000,
      maxGroupMembers: e.MISSIVE_MAX_GROUP_MEMBERS,
      maxBodyBytes: e.MISSIVE_MAX_BODY_BYTES,
    },
    roles,
    wsAllowedOrigins: parseOrigins(e.MISSIVE_WS_ALLOWED_ORIGINS),
    // Generated ids differ across hosts and runs (a pid alone repeats across machines).
    tiers: {
      hotItems: e.MISSIVE_HOT_ITEMS,
      hotMaxAgeDays: e.MISSIVE_HOT_MAX_AGE_DAYS,
      hotKeyPrefix: e.MISSIVE_HOT_KEY_PREFIX,
      warmRetentionDays: e.MISSIVE_WARM_RETENTION_DAYS,
      intervalSeconds: e.MISSIVE_TIER_INTERVAL_SECONDS,
    },
    nodeId: e.MISSIVE_NODE_ID ?? `${os.hostname().replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 40)}-${randomUUID().slice(0, 8)}`,
    presenceTtlMs: e.MISSIVE_PRESENCE_TTL_MS,
    redisKeyPrefix: e.MISSIVE_REDIS_KEY_PREFIX,
    rateLimitPerMinute: e.MISSIVE_RATE_LIMIT_PER_MINUTE,
    failpoints: e.MISSIVE_FAILPOINTS,
  };
}

/**
 * What the URLs and roles ask for together: each URL picks an adapter by its scheme, and some roles
 * need some adapters. Every problem is listed, so one start-up names all of them.
 */
function adapterProblems(env: Record<string, string | undefined>): Array<{ key: string; message: string }> {
  const problems: Array<{ key: string; message: string }> = [];
  const value = (key: string) => env[key] || undefined;
  const scheme = (url: string) => url.slice(0, Math.max(0, url.indexOf('://')));
  const database = value('DATABASE_URL');
  const eventStore = value('EVENTSTORE_URL');
  const redis = value('REDIS_URL');
  if (database && !['postgres', 'postgresql'].includes(scheme(database))) {
    problems.push({ key: 'DATABASE_URL', message: 'DATABASE_URL: expected a postgres:// or postgresql:// URL' });
  }
  if (eventStore && !['esdb', 'esdb+discover', 'kurrentdb', 'kurrentdb+discover'].includes(scheme(eventStore))) {
    problems.push({ key: 'EVENTSTORE_URL', message: 'EVENTSTORE_URL: expected an esdb://, esdb+discover:// or kurrentdb:// connection string' });
  }
  if (eventStore && !database) {
    problems.push({ key: 'DATABASE_URL', message: 'DATABASE_URL is required when EVENTSTORE_URL is set: the read models and checkpoints live in PostgreSQL' });
  }
  if (redis && !['redis', 'rediss'].includes(scheme(redis))) {
    problems.push({ key: 'REDIS_URL', message: 'REDIS_URL: expected a redis:// or rediss:// URL' });
  }
  let roles: string[] = [];
  try {
    roles = value('MISSIVE_ROLES') ? parseRoles(value('MISSIVE_ROLES')) : [];
  } catch (error) {
    problems.push({ key: 'MISSIVE_ROLES', message: `MISSIVE_ROLES (--role): ${(error as Error).message}` });
  }
  // The default (every role) runs the relay only when there is a Kafka to relay to; naming it asks for Kafka.
  if (roles.includes('relay') && !value('KAFKA_BROKERS')) {
    problems.push({ key: 'MISSIVE_ROLES', message: 'the relay role publishes to Kafka: set KAFKA_BROKERS (host:port[,host:port...]) or leave relay out of --role' });
  }
  return problems;
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
