// The hint gate of projector workers that split the sync projections between them: an event is hinted
// only once every sync projection's committed checkpoint has passed it, whichever process applied last.
import { describe, expect, it } from 'vitest';
import { createSharedHintGate } from '../../src/server/sharedHintGate.js';
import type { RecordedEvent } from '../../src/store/eventStore.js';

const SYNC = ['inbox', 'timeline', 'sessions'];
const event = (position: number): RecordedEvent => ({
  eventId: `e${position}`,
  type: 'MessageSent',
  streamId: 'conversation-x',
  streamPosition: position,
  globalPosition: BigInt(position),
  recordedAt: new Date(0),
  data: {},
  metadata: { actorId: 'alice', schemaVersion: 1 },
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function setup() {
  // The committed checkpoints, as PostgreSQL's projection_checkpoints would answer them.
  const committed = new Map<string, bigint>(SYNC.map((name) => [name, 0n]));
  const released: Record<string, number[]> = { a: [], b: [] };
  const gate = (worker: 'a' | 'b') =>
    createSharedHintGate(
      SYNC,
      async (names) => new Map(names.map((n) => [n, committed.get(n)!])),
      (events) => released[worker]!.push(...events.map((e) => Number(e.globalPosition))),
      (error) => {
        throw error;
      },
    );
  /** A worker commits a batch of a projection, then reports it (as the runner's onApplied does). */
  const commit = (g: ReturnType<typeof gate>, projection: string, positions: number[]) => {
    committed.set(projection, BigInt(positions.at(-1)!));
    g.applied(projection, positions.map(event));
  };
  return { committed, released, gate, commit };
}

describe('shared sync hint gate', () => {
  it('releases an event in the worker that applied it last, once every sync projection passed it', async () => {
    const { released, gate, commit } = setup();
    const a = gate('a'); // runs inbox and sessions
    const b = gate('b'); // runs timeline
    commit(a, 'inbox', [1, 2, 3]);
    commit(a, 'sessions', [1, 2]);
    await sleep(20);
    expect(released).toEqual({ a: [], b: [] });
    commit(b, 'timeline', [1, 2, 3]);
    await sleep(20);
    expect(released.b).toEqual([1, 2]); // sessions has not reached 3 yet
    commit(a, 'sessions', [3]);
    await sleep(20);
    expect(released.a).toEqual([1, 2, 3]);
    // b still held 3 and finds it passed on its next look: a duplicate hint, harmless.
    await sleep(250);
    expect(released.b).toEqual([1, 2, 3]);
    a.stop();
    b.stop();
  });

  it('looks again while it holds events, so a check made just before the last commit still releases them', async () => {
    const { committed, released, gate, commit } = setup();
    const a = gate('a');
    // Every projection applies every event in order; timeline is one event behind here.
    commit(a, 'inbox', [4, 5]);
    commit(a, 'sessions', [4, 5]);
    commit(a, 'timeline', [4]);
    await sleep(20);
    expect(released.a).toEqual([4]);
    // Another worker commits timeline past 5 but this process never hears of it: only the re-check can.
    committed.set('timeline', 5n);
    await sleep(250);
    expect(released.a).toEqual([4, 5]);
    a.stop();
  });

  it('ignores projections that do not serve sync, and stops re-checking when stopped', async () => {
    const { committed, released, gate, commit } = setup();
    const a = gate('a');
    commit(a, 'membership', [9]);
    commit(a, 'inbox', [10]);
    a.stop();
    for (const name of SYNC) committed.set(name, 10n);
    await sleep(250);
    expect(released.a).toEqual([]);
  });
});
