import { describe, expect, it } from 'vitest';
import { ownedProjections } from '../../src/projector/projectionOwnership.js';

const NAMES = ['membership', 'timeline', 'inbox', 'sessions'];

describe('ownedProjections', () => {
  it('gives each projection to exactly one member whatever the assignment', () => {
    const splits = [
      [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
      [[0, 2, 4, 6, 8, 10], [1, 3, 5, 7, 9, 11]],
      [[0, 3, 6, 9], [1, 4, 7, 10], [2, 5, 8, 11]],
      [[0], [1], [2], [3], [4, 5, 6, 7, 8, 9, 10, 11]],
    ];
    for (const members of splits) {
      const owned = members.flatMap((partitions) => ownedProjections(NAMES, partitions, 12));
      expect(owned.sort()).toEqual([...NAMES].sort());
    }
  });

  it('alternate partitions give alternate projections', () => {
    expect(ownedProjections(NAMES, [0, 2, 4, 6, 8, 10], 12)).toEqual(['membership', 'inbox']);
    expect(ownedProjections(NAMES, [1, 3, 5, 7, 9, 11], 12)).toEqual(['timeline', 'sessions']);
  });

  it('wraps around when the topic has fewer partitions than there are projections', () => {
    expect(ownedProjections(NAMES, [0], 1)).toEqual(NAMES);
    expect(ownedProjections(NAMES, [1], 2)).toEqual(['timeline', 'sessions']);
    expect(ownedProjections(NAMES, [], 2)).toEqual([]);
  });
});
