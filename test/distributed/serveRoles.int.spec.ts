// `missive serve --role ...` split over processes: an api+gateway node takes the requests and a
// relay+projector node publishes the log to Kafka and projects it as the consumer group's only member;
// what alice sends through the first shows up in bob's unread count there. A configuration that
// cannot work stops at start-up with exit 2 and one message naming every problem.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linesOf, runMissive, startMissive, type RunningCli } from '../cli/cliProcess.js';
import { freePort } from '../support/globalSetup.js';
import { distributedServeEnv, KAFKA_SKIP_REASON, readWholeTopic, testKafka, testKafkaBrokers, uniqueTopic } from '../support/kafka.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const brokers = testKafkaBrokers();
if (!brokers) console.warn(KAFKA_SKIP_REASON);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('missive serve --role: configuration errors', () => {
  it('exits 2 before starting anything, naming every problem in one message', async () => {
    const run = await runMissive(['serve', '--role', 'api,relay'], '', { DATABASE_URL: undefined, EVENTSTORE_URL: 'esdb://127.0.0.1:9?tls=false', KAFKA_BROKERS: undefined });
    expect(run.code).toBe(2);
    expect(linesOf(run.stderr)).toEqual([
      'error (config_invalid): Invalid configuration:',
      '  DATABASE_URL is required when EVENTSTORE_URL is set: the read models and checkpoints live in PostgreSQL',
      '  the relay role publishes to Kafka: set KAFKA_BROKERS (host:port[,host:port...]) or leave relay out of --role',
    ]);
    // A CLI process costs seconds of CPU; on a saturated 2-core machine more than the default 30 s.
  }, 90_000);
});

(brokers ? describe : describe.skip)(brokers ? 'missive serve --role over Kafka' : KAFKA_SKIP_REASON, () => {
  let db: TestDatabase;
  const nodes: RunningCli[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    for (const node of nodes) if (node.child.exitCode === null) node.child.kill('SIGKILL');
    await Promise.all(nodes.map((node) => node.exited));
    await db?.drop();
  });

  it('an api+gateway node and a relay+projector node serve one conversation together', async () => {
    const topic = uniqueTopic('serve-roles');
    const port = await freePort();
    const shared = distributedServeEnv({ databaseUrl: db.url, brokers: brokers!, topic, jwtSecret: 'serve-roles-test-secret-0123456789' });
    const worker = startMissive(['serve', '--role', 'relay,projector'], { ...shared, PORT: '0' });
    nodes.push(worker);
    const api = startMissive(['serve', '--role', 'api,gateway'], { ...shared, PORT: String(port) });
    nodes.push(api);
    expect(JSON.parse(await worker.waitForOutput(/"msg":"missive serving"/, 60_000))).toMatchObject({ url: null, roles: ['relay', 'projector'] });
    const { url } = JSON.parse(await api.waitForOutput(/"msg":"missive serving"/, 60_000)) as { url: string };
    await worker.waitForOutput(/"msg":"projector ownership changed"/, 30_000);

    const post = async (path: string, token: string | undefined, body: unknown) => {
      const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const alice = (await post('/v1/dev/token', undefined, { userId: 'alice' })).body['token'] as string;
    const bob = (await post('/v1/dev/token', undefined, { userId: 'bob' })).body['token'] as string;
    const conversationId = (await post('/v1/conversations/direct', alice, { peerId: 'bob' })).body['conversationId'] as string;
    for (let i = 0; i < 20; i++) {
      expect((await post(`/v1/conversations/${conversationId}/messages`, alice, { clientMsgId: `m-${i}`, kind: 'text', body: { text: `hi ${i}` } })).status).toBe(201);
    }

    // Only the other process projects: bob's unread reaches 20 once it has.
    const deadline = Date.now() + 20_000;
    let unread: { total?: number } = {};
    while (unread.total !== 20 && Date.now() < deadline) {
      unread = (await (await fetch(`${url}/v1/unread`, { headers: { authorization: `Bearer ${bob}` } })).json()) as { total?: number };
      if (unread.total !== 20) await sleep(100);
    }
    expect(unread.total).toBe(20);

    // ... and the relay published the conversation: the open and 20 sends, keyed by its stream.
    const partitions = await readWholeTopic(testKafka(brokers!), topic);
    const messages = [...partitions.values()].flat();
    expect(messages.map((m) => m.event.streamPosition).sort((a, b) => a - b)).toEqual([...Array(21).keys()]);
    expect(new Set(messages.map((m) => m.key))).toEqual(new Set([`conversation-${conversationId}`]));

    for (const node of [api, worker]) {
      node.child.kill('SIGTERM');
      expect((await node.exited).code).toBe(0);
    }
  }, 120_000);
});
