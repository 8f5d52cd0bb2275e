// The tiering job on a real database and log: warm month partitions past retention are dropped only
// when the log still covers them, history still answers from cold afterwards, hot entries past age or
// count are evicted; and `missive tier run` does the same from the command line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getHistory } from '../../src/projections/index.js';
import { createMemoryHotStore } from '../../src/tiers/memoryHotStore.js';
import { createHotProjection } from '../../src/tiers/hotProjection.js';
import { createHistoryReader } from '../../src/tiers/tieredHistory.js';
import { runTierJob } from '../../src/tiers/tierJob.js';
import { listMonthPartitions, monthEndsBefore } from '../../src/tiers/warmRetention.js';
import { createProjectionFixture, newId, type ProjectionFixture } from '../projections/support.js';
import { runMissive } from '../cli/cliProcess.js';

const NOW = Date.parse('2026-11-23T12:00:00.000Z');
const DAY = 24 * 3600 * 1000;
const settings = { hotItems: 10, hotMaxAgeDays: 7, warmRetentionDays: 90 };
let fx: ProjectionFixture;
const [june, september, november] = [newId(), newId(), newId()];

beforeAll(async () => {
  fx = await createProjectionFixture();
  fx.log.setTime('2026-06-10T10:00:00.000Z');
  await fx.log.direct(june, 'ann', 'bob');
  for (let i = 0; i < 5; i++) await fx.log.send(june, 'ann', `june ${i}`);
  fx.log.setTime('2026-09-10T10:00:00.000Z');
  await fx.log.direct(september, 'ann', 'cy');
  for (let i = 0; i < 5; i++) await fx.log.send(september, 'cy', `sept ${i}`);
  fx.log.setTime('2026-11-01T10:00:00.000Z');
  await fx.log.direct(november, 'bob', 'cy');
  for (let i = 0; i < 4; i++) await fx.log.send(november, 'bob', `early nov ${i}`);
  fx.log.setTime('2026-11-22T10:00:00.000Z');
  for (let i = 0; i < 15; i++) await fx.log.send(november, 'bob', `late nov ${i}`);
  await fx.runner.catchUp();
});
afterAll(async () => fx.close());

const partitions = async () => (await listMonthPartitions(fx.db.pool)).map((p) => p.name);

describe('tiering job', () => {
  it('knows when a month is past retention', () => {
    expect(monthEndsBefore('2026-06-01', Date.parse('2026-07-01T00:00:00Z'))).toBe(true);
    expect(monthEndsBefore('2026-06-01', Date.parse('2026-06-30T23:59:59Z'))).toBe(false);
    expect(monthEndsBefore('2026-12-01', Date.parse('2027-01-01T00:00:00Z'))).toBe(true);
  });

  it('keeps a partition the log does not cover, drops it once it does; history then reads cold', async () => {
    expect(await partitions()).toEqual(['items_p202606', 'items_p202609', 'items_p202611']);
    const reference = (await getHistory(fx.db.pool, june, { limit: 50 })).items;
    // A timeline row that no event of the log backs any more (as after the log was truncated).
    await fx.db.pool.query(`UPDATE proj_timeline.items SET global_position = global_position + 1000000 WHERE conversation_id = $1 AND seq = 1`, [june]);
    const refused = await runTierJob({ pool: fx.db.pool, store: fx.store, settings }, { now: NOW });
    expect(refused.warm.dropped).toEqual([]);
    expect(refused.warm.kept).toEqual([{ partition: 'items_p202606', reason: expect.stringContaining(june) }]);
    expect(await partitions()).toContain('items_p202606');

    await fx.db.pool.query(`UPDATE proj_timeline.items SET global_position = global_position - 1000000 WHERE conversation_id = $1 AND seq = 1`, [june]);
    const dry = await runTierJob({ pool: fx.db.pool, store: fx.store, settings }, { now: NOW, dryRun: true });
    expect(dry.warm).toEqual({ dropped: [], kept: [{ partition: 'items_p202606', reason: 'dry run: would be dropped' }] });
    const done = await runTierJob({ pool: fx.db.pool, store: fx.store, settings }, { now: NOW });
    expect(done.warm.dropped).toEqual(['items_p202606']); // September ends within 90 days of NOW
    expect(await partitions()).toEqual(['items_p202609', 'items_p202611']);

    const reader = createHistoryReader({ db: fx.db.pool, store: fx.store, patchHorizonMs: DAY });
    const page = await reader.read(june, { limit: 50 });
    expect(page.items).toEqual(reference);
    expect(page.tiers).toEqual(['cold']);
  });

  it('evicts hot items past count and age', async () => {
    const hot = createMemoryHotStore();
    await createHotProjection({ store: fx.store, hot, maxItems: 200 }).catchUp();
    expect((await hot.window(november)).window).toEqual({ lo: 1, last: 20 });
    const report = await runTierJob({ pool: fx.db.pool, store: fx.store, hot, settings }, { now: NOW, dryRun: false });
    // November: the 10 newest kept by count (all from Nov 22, inside 7 days); June and September idle: dropped.
    expect((await hot.window(november)).window).toEqual({ lo: 11, last: 20 });
    expect((await hot.window(june)).window).toBeNull();
    expect((await hot.window(september)).window).toBeNull();
    expect(report.hot).toEqual({ itemsEvicted: 10 + 6 + 6, conversationsDropped: 2 });
  });

  it('missive tier run: a dry run changes nothing; bad options exit 2', async () => {
    const env = { MISSIVE_WARM_RETENTION_DAYS: '1', REDIS_URL: undefined };
    const dry = await runMissive(['tier', 'run', '--dry-run', '--json'], fx.db.url, env);
    expect(dry.code, dry.stderr).toBe(0);
    const report = JSON.parse(dry.stdout);
    expect(report.hot).toBeNull();
    expect(report.warm.kept.map((k: { partition: string }) => k.partition)).toContain('items_p202609');
    expect(await partitions()).toContain('items_p202609');

    const bad = await runMissive(['tier', 'run', '--bogus'], fx.db.url, env);
    expect(bad.code).toBe(2);
    const badConfig = await runMissive(['tier', 'run'], fx.db.url, { ...env, MISSIVE_WARM_RETENTION_DAYS: 'soon' });
    expect(badConfig.code).toBe(2);
    expect(await partitions()).toContain('items_p202609');

    const real = await runMissive(['tier', 'run'], fx.db.url, env);
    expect(real.code, real.stderr).toBe(0);
    expect(real.stdout).toContain('dropped 1 partition(s): items_p202609');
  });
});
