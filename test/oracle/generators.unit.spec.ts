// The generated histories are what the projection properties stand on: they must be valid logs (the
// store accepts every append), replay identically, and actually contain the cases the properties
// are about (retries, stale and out-of-range read marks, groups crossing the fan-out limit both ways).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryEventStore } from '../../src/store/memory/memoryEventStore.js';
import { appendHistory, readWholeLog } from '../support/history.js';
import { historyArbitrary, historyOf, scriptArbitrary } from './generators.js';
import { computeOracle, conversationAsOf } from './oracle.js';

const FANOUT_LIMIT = 3;

describe('history generator', () => {
  it('replays a script into the same history every time', () => {
    fc.assert(
      fc.property(scriptArbitrary(), (script) => {
        expect(historyOf(script)).toEqual(historyOf(script));
      }),
      { numRuns: 30 },
    );
  });

  it('produces logs the store accepts, with gapless seqs and retries deduplicated', async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary(), async ({ history }) => {
        const store = createMemoryEventStore();
        await appendHistory(store, history.appends);
        const log = await readWholeLog(store);
        const offered = history.appends.flatMap((a) => a.events.map((e) => e.eventId));
        expect(log.map((e) => e.eventId)).toEqual([...new Set(offered)]);
        for (const conversation of computeOracle(log).conversations.values()) {
          expect(conversation.items.map((i) => i.seq)).toEqual(conversation.events.map((_, i) => i + 1));
        }
      }),
      { numRuns: 30 },
    );
  });

  it('covers retries, clamped and stale read marks, and groups crossing the fan-out limit up and down', async () => {
    const seen = { retries: 0, clampedMarks: 0, staleMarks: 0, crossedUpAndDown: 0, departures: 0, edits: 0, recalls: 0 };
    for (const { script, history } of fc.sample(historyArbitrary(), { numRuns: 40, seed: 7 })) {
      const offered = history.appends.flatMap((a) => a.events);
      seen.retries += offered.length - new Set(offered.map((e) => e.eventId)).size;
      const store = createMemoryEventStore();
      await appendHistory(store, history.appends);
      const oracle = computeOracle(await readWholeLog(store));
      for (const step of script.steps) if (step.op === 'read' && step.mark.kind === 'beyond') seen.clampedMarks++;
      for (const step of script.steps) if (step.op === 'read' && step.mark.kind === 'stale') seen.staleMarks++;
      for (const c of oracle.conversations.values()) {
        const sizes = c.events.map((e) => conversationAsOf(c.conversationId, c.events, e.seq).members.size);
        const firstLarge = sizes.findIndex((n) => n > FANOUT_LIMIT);
        if (firstLarge >= 0 && sizes.slice(firstLarge).some((n) => n <= FANOUT_LIMIT)) seen.crossedUpAndDown++;
        for (const e of c.events) {
          if (e.type === 'MemberLeft' || e.type === 'MemberRemoved') seen.departures++;
          if (e.type === 'MessageEdited') seen.edits++;
          if (e.type === 'MessageRecalled') seen.recalls++;
        }
      }
    }
    for (const [what, count] of Object.entries(seen)) expect(count, what).toBeGreaterThan(3);
  });
});
