// `missive conversation <id> --as-of` run as a child process against a known history: members, roles,
// message bodies and read marks as they stood at a time or a position.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { runMissive } from './cliProcess.js';
import { writeScenario, type Scenario } from './cliScenario.js';

let db: TestDatabase;
let scenario: Scenario;

beforeAll(async () => {
  db = await createTestDatabase();
  const store = createPostgresEventStore({ pool: db.pool, notify: false });
  scenario = await writeScenario(store);
  await store.close();
});
afterAll(async () => {
  await db.drop();
});

const asOf = async (moment: string, ...extra: string[]) => {
  const run = await runMissive(['conversation', scenario.groupId, '--as-of', moment, ...extra], db.url);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return run.stdout;
};
const eventCount = async () => (await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n;

describe('missive conversation --as-of', () => {
  it('at a time: members, roles, messages and read marks as they stood then', async () => {
    const view = JSON.parse(await asOf(scenario.pause.toISOString()));
    expect(view).toMatchObject({
      conversationId: scenario.groupId,
      asOf: { time: scenario.pause.toISOString() },
      lastEvent: { seq: 5, globalPosition: scenario.recorded.carolSays.globalPosition.toString() },
      kind: 'group',
      title: 'Team',
      dissolved: false,
      // bob was removed by then; carol had read up to 5, alice nothing yet.
      members: [
        { userId: 'alice', role: 'owner', lastReadSeq: 0 },
        { userId: 'carol', role: 'member', lastReadSeq: 5 },
      ],
    });
    expect(view.messages).toEqual([
      expect.objectContaining({ seq: 2, senderId: 'alice', kind: 'text', body: { text: 'hello' }, recalled: false }),
      expect.objectContaining({ seq: 5, senderId: 'carol', body: { text: 'bob is gone' }, recalled: false }),
    ]);
    expect(view.messages[0]).not.toHaveProperty('editedAt');
  });

  it('an edit shows from the moment it was recorded, not a millisecond before', async () => {
    const editedAt = scenario.recorded.helloEdited.recordedAt;
    const justBefore = JSON.parse(await asOf(new Date(editedAt.getTime() - 1).toISOString()));
    expect(justBefore.messages[0]).toMatchObject({ seq: 2, body: { text: 'hello' } });
    const atEdit = JSON.parse(await asOf(editedAt.toISOString()));
    expect(atEdit.messages[0]).toMatchObject({ seq: 2, body: { text: 'hello, team' }, editedAt: expect.any(String) });
  });

  it('at a position, as a table: bob back with his old read mark, the edit not yet applied', async () => {
    const table = await asOf(scenario.recorded.bobSays.globalPosition.toString(), '--format', 'table');
    expect(table).toContain(`Conversation ${scenario.groupId} (group "Team") as of position ${scenario.recorded.bobSays.globalPosition}`);
    expect(table).toMatch(/^bob\s+member\s+2$/m);
    expect(table).toMatch(/^2\s+\S+\s+alice\s+text\s+hello$/m);
    expect(table).toMatch(/^7\s+\S+\s+bob\s+text\s+back$/m);
    expect(table).not.toContain('hello, team');
  });

  it('at the last position: read marks recorded in user streams at that position', async () => {
    const view = JSON.parse(await asOf(scenario.recorded.aliceRead.globalPosition.toString()));
    expect(view.members).toEqual([
      { userId: 'alice', role: 'owner', lastReadSeq: 8 },
      { userId: 'carol', role: 'member', lastReadSeq: 5 },
      { userId: 'bob', role: 'member', lastReadSeq: 2 },
    ]);
  });

  it.each([
    [['conversation', 'no-such-conversation', '--as-of', '10'], /unknown_conversation/],
    [['conversation', 'x', '--as-of', 'yesterday'], /not an ISO 8601 time/],
  ])('bad input %j exits 2, prints nothing and changes nothing', async (args, message) => {
    const before = await eventCount();
    const run = await runMissive(args, db.url);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
    expect(await eventCount()).toBe(before);
  });

  it('a moment before the conversation existed is reported as bad input', async () => {
    const before = (scenario.recorded.groupCreated.globalPosition - 1n).toString();
    const run = await runMissive(['conversation', scenario.groupId, '--as-of', before], db.url);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/did not exist yet at position/);
  });
});
