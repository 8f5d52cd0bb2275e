// `missive projections status|rebuild|verify` run as child processes: status reports checkpoints,
// epochs and lag; rebuild builds and swaps (also over a leftover shadow from an interrupted run);
// verify exits 3 and names the rows when a projection row was corrupted by SQL, 0 when it matches.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_PROJECTIONS } from '../../src/projections/index.js';
import { createPostgresEventStore } from '../../src/store/postgres/postgresEventStore.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { linesOf, runMissive, runPipeline } from './cliProcess.js';
import { writeScenario, type Scenario } from './cliScenario.js';

let db: TestDatabase;
let scenario: Scenario;
let head: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const store = createPostgresEventStore({ pool: db.pool, notify: false });
  scenario = await writeScenario(store);
  head = (await store.headPosition()).toString();
  await store.close();
});
afterAll(async () => {
  await db.drop();
});

const missive = (...args: string[]) => runMissive(args, db.url);
const checkpoints = async () => (await db.pool.query('SELECT name, epoch, position::text FROM projection_checkpoints ORDER BY name')).rows;
const eventCount = async () => (await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n;
// The progress bar draws on a terminal only; util-linux `script` gives the CLI one.
const NO_SCRIPT_SKIP_REASON = 'SKIPPED: util-linux `script` is not installed, and the progress bar draws only on a terminal';
const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('missive projections', () => {
  it('status before any projector ran: checkpoint 0, lag the whole log, needs rebuild', async () => {
    const run = await missive('projections', 'status');
    expect(run.code).toBe(0);
    const [header, ...rows] = linesOf(run.stdout);
    expect(header!.split(/\s{2,}/)).toEqual(['PROJECTION', 'VERSION', 'EPOCH', 'CHECKPOINT', 'HEAD', 'LAG EVENTS', 'LAG SECONDS', 'STATE']);
    expect(rows.map((r) => r.split(/\s{2,}/)[0])).toEqual(['membership', 'timeline', 'inbox', 'sessions']);
    for (const [i, row] of rows.entries()) {
      const version = ALL_PROJECTIONS[i]!.version;
      expect(row).toMatch(new RegExp(`^\\w+\\s+${version}\\s+0\\s+0\\s+${head}\\s+${head}\\s+[\\d.]+\\s+behind \\(needs rebuild\\)$`));
    }
  });

  it.skipIf(!hasScript)(hasScript ? 'rebuild all shows a progress bar, prints one result line per projection; status then shows no lag' : NO_SCRIPT_SKIP_REASON, async () => {
    const run = await runPipeline('script -qec "$MISSIVE projections rebuild all" /dev/null', db.url);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`membership .*100% \\| ${head}/${head} events \\| \\d+ events/s \\| ETA`));
    for (const name of ['membership', 'timeline', 'inbox', 'sessions']) {
      expect(run.stdout).toMatch(new RegExp(`rebuilt ${name}: epoch 2, position ${head}, ${head} events in [\\d.]+ s`));
    }
    const status = await missive('projections', 'status', '--json');
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual(
      ['membership', 'timeline', 'inbox', 'sessions'].map((name) =>
        expect.objectContaining({ name, epoch: 2, checkpoint: head, headPosition: head, lagEvents: 0, lagSeconds: 0, needsRebuild: false }),
      ),
    );
  });

  it('verify: exit 0 when every projection matches the log', async () => {
    const run = await missive('projections', 'verify');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(linesOf(run.stdout)).toEqual(['membership', 'timeline', 'inbox', 'sessions'].map((name) => `${name}: matches the log`));
  });

  it('verify: exit 3 listing both sides of a row corrupted by SQL; a rebuild over a stale shadow repairs it', async () => {
    await db.pool.query("UPDATE proj_membership.members SET role = 'admin' WHERE conversation_id = $1 AND user_id = 'carol'", [scenario.groupId]);
    const drift = await missive('projections', 'verify', 'membership', '--json');
    expect(drift.code).toBe(3);
    expect(drift.stderr).toMatch(/projection_drift.*membership/);
    const [result] = JSON.parse(drift.stdout);
    expect(result.projection).toBe('membership');
    expect(result.differences).toEqual([
      { table: 'members', kind: 'missing_in_live', row: expect.objectContaining({ conversation_id: scenario.groupId, user_id: 'carol', role: 'member' }) },
      { table: 'members', kind: 'unexpected_in_live', row: expect.objectContaining({ conversation_id: scenario.groupId, user_id: 'carol', role: 'admin' }) },
    ]);

    // What an interrupted rebuild leaves behind: a half-built shadow schema.
    await db.pool.query('CREATE SCHEMA proj_membership__shadow; CREATE TABLE proj_membership__shadow.members (junk int)');
    const rebuilt = await missive('projections', 'rebuild', 'membership');
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stdout).toMatch(/^rebuilt membership: epoch 3, /);
    const verified = await missive('projections', 'verify', 'membership');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toBe('membership: matches the log\n');
  });

  it('an unknown projection exits 2 and changes nothing', async () => {
    const [before, events] = [await checkpoints(), await eventCount()];
    const run = await missive('projections', 'rebuild', 'members');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown projection "members"; known: membership, timeline, inbox, sessions/);
    expect(run.stdout).toBe('');
    expect(await checkpoints()).toEqual(before);
    expect(await eventCount()).toBe(events);
  });
});
