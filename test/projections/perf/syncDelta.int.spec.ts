import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDelta, type SyncCursor } from '../../../src/projections/index.js';
import { createProjectionFixture, newId, type ProjectionFixture } from '../support.js';
import { tenQueryDelta } from '../sync/tenQueryDelta.js';

// In-process latency of a sync pull, the one-statement getDelta against the former ten-query read
// (test/projections/sync/tenQueryDelta.ts), alternating pull for pull so both see the same machine
// load. The data is the `sync` bench's (bench/scenarios/sync.ts): readers of a small group that got
// 510 messages since their token, pulling pages of 1, 50 and 500; once in write fan-out (inbox rows),
// once with the group in read fan-out (its timeline). The bound asserted is loose (twice the former median: a shared machine);
// the percentiles are printed for the record.
const READERS = 20;
const MESSAGES = 510;
const REPS: Record<number, number> = { 1: 300, 50: 200, 500: 60 };

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const summary = (samples: number[]) => {
  const s = [...samples].sort((a, b) => a - b);
  return `p50 ${percentile(s, 50).toFixed(2)} / p90 ${percentile(s, 90).toFixed(2)} / p99 ${percentile(s, 99).toFixed(2)} ms`;
};

for (const mode of ['write', 'read'] as const) {
  describe(`sync pull latency, group in ${mode} fan-out`, () => {
    let fx: ProjectionFixture;
    const readers = Array.from({ length: READERS }, () => newId());
    const cursors = new Map<string, SyncCursor>();
    beforeAll(async () => {
      fx = await createProjectionFixture({ fanoutLimit: mode === 'write' ? 500 : READERS - 1 });
      const [sender, group] = [newId(), newId()];
      // Each reader also has a few direct conversations, as a real user would.
      for (const r of readers) for (let i = 0; i < 3; i++) await fx.log.direct(newId(), r, newId());
      await fx.log.group(group, sender, readers);
      await fx.runner.catchUp();
      for (const r of readers) cursors.set(r, (await getDelta(fx.db.pool, r, null, 10)).nextCursor);
      for (let i = 0; i < MESSAGES; i++) await fx.log.send(group, sender, `m${i}`);
      await fx.runner.catchUp();
    }, 120_000);
    afterAll(async () => fx.close());

    it('pulls of 1, 50 and 500 items: one statement against ten', { timeout: 300_000 }, async () => {
      const lines: string[] = [];
      for (const [k, reps] of Object.entries(REPS).map(([k, r]) => [Number(k), r] as const)) {
        const times = { ten: [] as number[], one: [] as number[] };
        for (let i = 0; i < reps; i++) {
          const r = readers[i % readers.length]!;
          const order = i % 2 === 0 ? (['ten', 'one'] as const) : (['one', 'ten'] as const);
          for (const which of order) {
            const started = performance.now();
            const delta = await (which === 'ten' ? tenQueryDelta : getDelta)(fx.db.pool, r, cursors.get(r)!, k);
            times[which].push(performance.now() - started);
            expect(delta.items.length).toBe(k);
          }
        }
        lines.push(`${k} items: ten-query ${summary(times.ten)}; one statement ${summary(times.one)}`);
        const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
        expect(median(times.one)).toBeLessThan(median(times.ten) * 2); // loose: a shared machine
      }
      console.log(`sync pull latency in process, ${mode} fan-out:\n  ${lines.join('\n  ')}`);
    });
  });
}
