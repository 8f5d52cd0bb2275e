// The roster (a frozen base plus an overlay of changes) must behave exactly like a Map kept in joining
// order, for every version of a branching history, across overlay merges.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { MemberRole } from '../../src/domain/events.js';
import { MemberRoster } from '../../src/domain/memberRoster.js';

type Op = { from: number; kind: 'join'; ids: number[] } | { from: number; kind: 'role'; id: number; role: MemberRole } | { from: number; kind: 'remove'; id: number };

const userId = (n: number) => `u${n}`;
// Mostly a few users (re-joins, role changes of the same people); sometimes many (overlay merges).
const id = fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 0, max: 15 }) }, { weight: 1, arbitrary: fc.integer({ min: 16, max: 400 }) });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ from: fc.nat(), kind: fc.constant('join' as const), ids: fc.array(id, { maxLength: 20, size: 'max' }) }),
  fc.record({ from: fc.nat(), kind: fc.constant('role' as const), id, role: fc.constantFrom<MemberRole>('owner', 'admin', 'member') }),
  fc.record({ from: fc.nat(), kind: fc.constant('remove' as const), id }),
);

/** The naive model: an array of [userId, role] in joining order. */
type Model = Array<[string, MemberRole]>;

function applyModel(model: Model, o: Op): Model {
  const has = (u: string) => model.some(([m]) => m === u);
  switch (o.kind) {
    case 'join': {
      const next = [...model];
      for (const u of o.ids.map(userId)) if (!next.some(([m]) => m === u)) next.push([u, 'member']);
      return next;
    }
    case 'role':
      return has(userId(o.id)) ? model.map(([m, r]) => [m, m === userId(o.id) ? o.role : r]) : [...model, [userId(o.id), o.role]];
    case 'remove':
      return model.filter(([m]) => m !== userId(o.id));
  }
}

function applyRoster(roster: MemberRoster, o: Op): MemberRoster {
  if (o.kind === 'join') return roster.withJoined(o.ids.map(userId));
  if (o.kind === 'role') return roster.withRole(userId(o.id), o.role);
  return roster.without(userId(o.id));
}

describe('MemberRoster', () => {
  it('matches a joining-ordered model for every version of a branching history', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300, size: 'max' }), (ops) => {
        const initial: Model = [
          ['u0', 'owner'],
          ['u1', 'member'],
        ];
        const versions = [{ roster: MemberRoster.of(initial), model: initial }];
        for (const o of ops) {
          // Mostly continue the newest version; sometimes branch from an older one.
          const base = versions[o.from % 4 === 0 ? o.from % versions.length : versions.length - 1]!;
          versions.push({ roster: applyRoster(base.roster, o), model: applyModel(base.model, o) });
        }
        // Compared as JSON first (cheap); expect() only reports the first version that differs.
        const actual = (r: MemberRoster) => ({ entries: [...r], size: r.size, some: [...Array(17).keys()].map((n) => r.get(userId(n)) ?? null) });
        const expected = (m: Model) => ({ entries: m, size: m.length, some: [...Array(17).keys()].map((n) => m.find(([u]) => u === userId(n))?.[1] ?? null) });
        const wrong = versions.find((v) => JSON.stringify(actual(v.roster)) !== JSON.stringify(expected(v.model)));
        if (wrong) expect(actual(wrong.roster)).toEqual(expected(wrong.model));
      }),
      { numRuns: 60 },
    );
  });

  it('offers the read-only Map interface', () => {
    const roster = MemberRoster.of([
      ['a', 'owner'],
      ['b', 'member'],
    ]).withJoined(['c']);
    const seen: string[] = [];
    roster.forEach((role, user) => seen.push(`${user}:${role}`));
    expect(seen).toEqual(['a:owner', 'b:member', 'c:member']);
    expect([...roster.keys()]).toEqual(['a', 'b', 'c']);
    expect([...roster.values()]).toEqual(['owner', 'member', 'member']);
    expect(roster.has('c') && !roster.has('d')).toBe(true);
    expect(roster.without('d')).toBe(roster);
  });
});
