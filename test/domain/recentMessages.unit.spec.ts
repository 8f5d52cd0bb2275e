// The shared-log window of recent messages must behave exactly like an immutable list, whatever order
// states are evolved in: checked against a naive copy-everything model over random histories that
// branch from old states (forks) and run long enough to compact.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RecentMessages } from '../../src/domain/recentMessages.js';

interface ModelMessage {
  id: string;
  seq: number;
  sentAtMs: number;
  recalled: boolean;
}
interface Version {
  window: RecentMessages;
  model: ModelMessage[];
  newest: number;
  seq: number;
}

const RETENTION = { retentionMs: 100, maxMessages: 20 };

type Step = { from: number; send: true; dt: number } | { from: number; send: false; pick: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ from: fc.nat(), send: fc.constant(true as const), dt: fc.integer({ min: -20, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ from: fc.nat(), send: fc.constant(false as const), pick: fc.nat() }) },
);

/** Most steps continue the newest version (as the application does); some fork an older one. */
const baseIndex = (versions: Version[], from: number): number => (from % 40 === 0 ? from % versions.length : versions.length - 1);

function apply(versions: Version[], s: Step, counter: { next: number }): Version {
  const base = versions[baseIndex(versions, s.from)]!;
  const seq = base.seq + 1;
  if (!s.send) {
    const target = base.model[s.pick % Math.max(1, base.model.length)];
    const id = target?.id ?? 'unknown';
    const model = base.model.map((m) => (m.id === id ? { ...m, recalled: true } : m));
    return { window: base.window.withRecalled(id), model, newest: base.newest, seq };
  }
  const id = `m${counter.next++}`;
  const sentAtMs = Math.max(0, (Number.isFinite(base.newest) ? base.newest : 0) + s.dt);
  const newest = Math.max(base.newest, sentAtMs);
  const model = [...base.model, { id, seq, sentAtMs, recalled: false }];
  while (model.length > RETENTION.maxMessages || (model.length > 0 && model[0]!.sentAtMs < newest - RETENTION.retentionMs)) model.shift();
  return { window: base.window.withSent({ messageId: id, seq, senderId: 'u', sentAtMs, kind: 'text' }, RETENTION), model, newest, seq };
}

const asModel = (window: RecentMessages): ModelMessage[] => [...window].map(([id, m]) => ({ id, seq: m.seq, sentAtMs: m.sentAtMs, recalled: m.recalled }));

describe('RecentMessages', () => {
  it('matches an immutable list model for every version of a branching history', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 400, size: 'max' }), (steps) => {
        const counter = { next: 0 };
        const versions: Version[] = [{ window: RecentMessages.empty(), model: [], newest: -Infinity, seq: 0 }];
        for (const s of steps) versions.push(apply(versions, s, counter));
        // Compared as JSON first (cheap); expect() only reports the first version that differs.
        const actual = (v: Version) => ({ list: asModel(v.window), size: v.window.size, recalled: v.model.map((m) => v.window.get(m.id)?.recalled) });
        const expected = (v: Version) => ({ list: v.model, size: v.model.length, recalled: v.model.map((m) => m.recalled) });
        const wrong = versions.find((v) => JSON.stringify(actual(v)) !== JSON.stringify(expected(v)));
        if (wrong) expect(actual(wrong)).toEqual(expected(wrong));
        // Ids that left a version's window are not found by it.
        const last = versions.at(-1)!;
        for (let n = 0; n < counter.next; n++) {
          expect(last.window.has(`m${n}`)).toBe(last.model.some((m) => m.id === `m${n}`));
        }
      }),
      { numRuns: 80 },
    );
  });

  it('offers the read-only Map interface', () => {
    const window = RecentMessages.empty()
      .withSent({ messageId: 'a', seq: 1, senderId: 'u', sentAtMs: 0, kind: 'text' }, RETENTION)
      .withSent({ messageId: 'b', seq: 2, senderId: 'v', sentAtMs: 1, kind: 'file' }, RETENTION);
    const seen: string[] = [];
    window.forEach((message, id) => seen.push(`${id}:${message.seq}`));
    expect(seen).toEqual(['a:1', 'b:2']);
    expect([...window.values()].map((m) => m.senderId)).toEqual(['u', 'v']);
    expect([...window.entries()].map(([id]) => id)).toEqual(['a', 'b']);
    expect(window.get('c')).toBeUndefined();
    expect(window.withRecalled('c')).toBe(window);
    expect(window.withRecalled('a').withRecalled('a').get('a')?.recalled).toBe(true);
  });
});
