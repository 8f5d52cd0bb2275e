// Per-test names in the shared CI services for spawned missive processes. The CI Redis and the CI
// Kafka broker are shared by every test file, and a spawned `missive serve` inherits the test run's
// environment (REDIS_URL, KAFKA_BROKERS): without names of its own it would share the default Redis
// prefixes, the default `missive.events` topic and the default `missive-projectors` consumer group
// with every other test's nodes. A shared group is the worst of these: projection ownership follows
// the group's partitions, so one test's projections could be owned by another test's node, on another
// database, and never run (two gateway tests failed that way in CI).
/**
 * The Redis key prefixes (hot tier, gateway presence and hint channels) and the Kafka topic and
 * consumer group for a test's log: one set per database, so processes sharing the test's database
 * share them and no other test's nodes are taken for theirs. A test that sets any of these itself
 * (a distributed test's own topic and group) spreads its values after these.
 */
export function sharedServiceNamesOf(databaseUrl: string | undefined): Record<string, string> {
  const database = databaseUrl ? new URL(databaseUrl).pathname.slice(1) : `pid${process.pid}`;
  return {
    MISSIVE_HOT_KEY_PREFIX: `{test-hot-${database}}`,
    MISSIVE_REDIS_KEY_PREFIX: `test-gw-${database}:`,
    MISSIVE_KAFKA_TOPIC: `test.events.${database}`,
    MISSIVE_KAFKA_GROUP: `test-projectors-${database}`,
  };
}
