// Which seqs of a large group a member's sync reads from the group timeline: those in read fan-out
// mode, inside one of the member's membership periods, above the member's cursor for that group.
// Pure, so that "every item exactly once across mode switches" is tested without a database.
import type { FanoutMode } from './membershipFold.js';

/** Inclusive seq range; `hi` is null when open-ended. */
export interface SeqRange {
  lo: number;
  hi: number | null;
}

const minHi = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));

/** The seq ranges in read mode, from the mode changes of one conversation (any order). */
export function readModeRanges(modes: ReadonlyArray<{ fromSeq: number; mode: FanoutMode }>): SeqRange[] {
  const sorted = [...modes].sort((a, b) => a.fromSeq - b.fromSeq);
  const ranges: SeqRange[] = [];
  sorted.forEach((change, i) => {
    if (change.mode !== 'read') return;
    const next = sorted[i + 1];
    ranges.push({ lo: change.fromSeq, hi: next ? next.fromSeq - 1 : null });
  });
  return ranges;
}

/** Intersection of two sets of disjoint ranges. */
export function intersectRanges(a: readonly SeqRange[], b: readonly SeqRange[]): SeqRange[] {
  const out: SeqRange[] = [];
  for (const x of a) {
    for (const y of b) {
      const lo = Math.max(x.lo, y.lo);
      const hi = minHi(x.hi, y.hi);
      if (hi === null || lo <= hi) out.push({ lo, hi });
    }
  }
  return out.sort((p, q) => p.lo - q.lo);
}

/** The ranges a member still has to read: read mode ∩ their periods ∩ (afterSeq, ∞). */
export function deliverableRanges(
  modes: ReadonlyArray<{ fromSeq: number; mode: FanoutMode }>,
  periods: ReadonlyArray<{ fromSeq: number; toSeq: number | null }>,
  afterSeq: number,
): SeqRange[] {
  const membership = periods.map((p) => ({ lo: p.fromSeq, hi: p.toSeq }));
  return intersectRanges(intersectRanges(readModeRanges(modes), membership), [{ lo: afterSeq + 1, hi: null }]);
}
