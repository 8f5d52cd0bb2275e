// Per-test Redis key prefixes for spawned missive processes (the CI Redis is shared by every test file).
/**
 * The Redis key prefixes (hot tier, gateway presence and hint channels) for a test's log: one per
 * database, so processes sharing the test's database share them and no other test's nodes, on the
 * shared CI Redis, are taken for theirs (a node directory shared across test files let one test's
 * nodes disturb another's routing under load).
 */
export function redisPrefixesOf(databaseUrl: string | undefined): Record<string, string> {
  const database = databaseUrl ? new URL(databaseUrl).pathname.slice(1) : `pid${process.pid}`;
  return { MISSIVE_HOT_KEY_PREFIX: `{test-hot-${database}}`, MISSIVE_REDIS_KEY_PREFIX: `test-gw-${database}:` };
}
