// `missive replay` run as a child process: each filter prints exactly the expected NDJSON lines
// (replayInput.int.spec.ts covers a closed pipe and bad input).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toJsonEnvelope } from '../../src/store/jsonEnvelope.js';
import type { RecordedEvent } from '../../src/store/eventStore.js';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { readWholeLog } from '../support/history.js';
import { linesOf, runMissive } from './cliProcess.js';
import { writeScenario, type Scenario, type ScenarioStep } from './cliScenario.js';

let db: TestDatabase;
let scenario: Scenario;
let log: RecordedEvent[];

beforeAll(async () => {
  db = await createTestDatabase();
  const store = createPostgresEventStore({ pool: db.pool, notify: false });
  scenario = await writeScenario(store);
  log = await readWholeLog(store);
  await store.close();
});
afterAll(async () => {
  await db.drop();
});

/** The NDJSON lines replay must print for these events (as read back from the store). */
const expectedLines = (events: RecordedEvent[]) => events.map((e) => JSON.stringify(toJsonEnvelope(e)));
const logWhere = (predicate: (e: RecordedEvent) => boolean) => expectedLines(log.filter(predicate));
const positionsOf = (...steps: ScenarioStep[]) => new Set(steps.map((s) => scenario.recorded[s].globalPosition));
const replay = async (...args: string[]) => {
  const run = await runMissive(['replay', ...args], db.url);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return linesOf(run.stdout);
};

describe('missive replay', () => {
  it('prints the whole log in global order, one full envelope per line', async () => {
    const lines = await replay();
    expect(lines).toEqual(expectedLines(log));
    const first = JSON.parse(lines.at(-1)!);
    expect(Object.keys(first)).toEqual(['eventId', 'type', 'streamId', 'streamPosition', 'globalPosition', 'recordedAt', 'data', 'metadata']);
    expect(first.globalPosition).toBe(scenario.recorded.aliceRead.globalPosition.toString());
    expect(first.recordedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('--conversation with --to-time: that conversation, up to the moment', async () => {
    const lines = await replay('--conversation', scenario.groupId, '--to-time', scenario.pause.toISOString());
    expect(lines).toEqual(logWhere((e) => positionsOf('groupCreated', 'hello', 'carolAdded', 'bobRemoved', 'carolSays').has(e.globalPosition)));
  });

  it('--stream: one stream', async () => {
    expect(await replay('--stream', 'user-carol')).toEqual(logWhere((e) => e.streamId === 'user-carol'));
  });

  it('--user: own stream plus conversation events while a member (removal and re-adding included)', async () => {
    const bobs = positionsOf('groupCreated', 'hello', 'bobRead', 'carolAdded', 'bobRemoved', 'bobAdded', 'bobSays', 'helloEdited');
    expect(await replay('--user', 'bob')).toEqual(logWhere((e) => bobs.has(e.globalPosition)));
  });

  it('--user with --limit stops after that many lines', async () => {
    const bobs = positionsOf('groupCreated', 'hello', 'bobRead');
    expect(await replay('--user', 'bob', '--limit', '3')).toEqual(logWhere((e) => bobs.has(e.globalPosition)));
  });

  it('--type takes comma lists and repeats', async () => {
    const types = new Set(['MessageSent', 'MessageEdited', 'ConversationRead']);
    const lines = await replay('--type', 'MessageSent,MessageEdited', '--type', 'ConversationRead');
    expect(lines).toEqual(logWhere((e) => types.has(e.type)));
    expect(lines).toHaveLength(8);
  });

  it('--from-time: events recorded at or after the moment', async () => {
    const after = positionsOf('bobAdded', 'bobSays', 'helloEdited', 'aliceRead');
    expect(await replay('--from-time', scenario.pause.toISOString())).toEqual(logWhere((e) => after.has(e.globalPosition)));
  });

  it('--from-position/--to-position: an inclusive range of global positions', async () => {
    const from = scenario.recorded.carolAdded.globalPosition;
    const to = scenario.recorded.directMessage.globalPosition;
    const lines = await replay('--from-position', from.toString(), '--to-position', to.toString());
    expect(lines).toEqual(logWhere((e) => e.globalPosition >= from && e.globalPosition <= to));
    expect(lines).toHaveLength(6);
  });
});
