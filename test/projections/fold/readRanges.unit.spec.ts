import { describe, expect, it } from 'vitest';
import { deliverableRanges, intersectRanges, readModeRanges } from '../../../src/projections/fold/readRanges.js';

describe('readModeRanges', () => {
  it('turns mode changes into the read-mode seq ranges', () => {
    expect(
      readModeRanges([
        { fromSeq: 1, mode: 'write' },
        { fromSeq: 5, mode: 'read' },
        { fromSeq: 9, mode: 'write' },
        { fromSeq: 12, mode: 'read' },
      ]),
    ).toEqual([
      { lo: 5, hi: 8 },
      { lo: 12, hi: null },
    ]);
  });

  it('sorts changes given in any order', () => {
    expect(readModeRanges([{ fromSeq: 7, mode: 'write' }, { fromSeq: 1, mode: 'read' }])).toEqual([{ lo: 1, hi: 6 }]);
  });
});

describe('intersectRanges', () => {
  it('keeps the overlaps, open ends included', () => {
    expect(intersectRanges([{ lo: 1, hi: 10 }, { lo: 20, hi: null }], [{ lo: 5, hi: 25 }])).toEqual([
      { lo: 5, hi: 10 },
      { lo: 20, hi: 25 },
    ]);
    expect(intersectRanges([{ lo: 1, hi: 3 }], [{ lo: 4, hi: null }])).toEqual([]);
  });
});

describe('deliverableRanges', () => {
  const modes = [
    { fromSeq: 1, mode: 'write' as const },
    { fromSeq: 4, mode: 'read' as const },
    { fromSeq: 10, mode: 'write' as const },
  ];

  it('restricts read mode to the member periods and to seqs after the cursor', () => {
    expect(deliverableRanges(modes, [{ fromSeq: 2, toSeq: 6 }, { fromSeq: 8, toSeq: null }], 0)).toEqual([
      { lo: 4, hi: 6 },
      { lo: 8, hi: 9 },
    ]);
    expect(deliverableRanges(modes, [{ fromSeq: 1, toSeq: null }], 6)).toEqual([{ lo: 7, hi: 9 }]);
    expect(deliverableRanges(modes, [{ fromSeq: 1, toSeq: null }], 9)).toEqual([]);
  });

  it('covers every seq exactly once together with write mode, wherever the cursor stands', () => {
    // Every seq 1..15 is either write mode (inbox) or a deliverable read seq, never both, never neither.
    const periods = [{ fromSeq: 1, toSeq: null }];
    const read = new Set<number>();
    for (const r of deliverableRanges(modes, periods, 0)) for (let s = r.lo; s <= (r.hi ?? 15); s++) read.add(s);
    const write = [1, 2, 3, 10, 11, 12, 13, 14, 15];
    for (let seq = 1; seq <= 15; seq++) expect(read.has(seq) !== write.includes(seq)).toBe(true);
  });
});
