// `missive replay` as a child process at its edges: a reader that closes the pipe early (`| head`)
// ends it quietly with exit 0, and bad input exits 2 with a message, no output and no change.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toJsonEnvelope } from '../../src/store/jsonEnvelope.js';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { linesOf, runMissive, runPipeline } from './cliProcess.js';
import { writeScenario } from './cliScenario.js';

let db: TestDatabase;
let firstLine: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const store = createPostgresEventStore({ pool: db.pool, notify: false });
  // The bulk stream makes the whole log (~400 KB) larger than a pipe buffer, so `head` closes it mid-way.
  await writeScenario(store, { bulkEvents: 1200 });
  firstLine = JSON.stringify(toJsonEnvelope((await store.readAll({ maxCount: 1 })).events[0]!));
  await store.close();
});
afterAll(async () => {
  await db.drop();
});

const eventCount = async () => (await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n;

describe('missive replay at its edges', () => {
  it('ends quietly with exit 0 when the reader closes the pipe (| head)', async () => {
    const run = await runPipeline('$MISSIVE replay | head -n 1', db.url);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(linesOf(run.stdout)).toEqual([firstLine]);
  });

  it.each([
    [['--from-position', '9', '--to-position', '3'], /invalid_range/],
    [['--type', 'MessageSnet'], /unknown event type\(s\) MessageSnet/],
    [['--conversation', 'no-such-conversation'], /unknown_conversation/],
    [['--user', 'nobody-at-all'], /unknown_user/],
    [['--user', 'bob', '--stream', 'user-bob'], /conflicting_options/],
  ])('bad input %j exits 2 with a message, no output and no change', async (args, message) => {
    const before = await eventCount();
    const run = await runMissive(['replay', ...args], db.url);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
    expect(await eventCount()).toBe(before);
  });
});
