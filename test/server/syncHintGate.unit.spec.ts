import { describe, expect, it } from 'vitest';
import { createSyncHintGate } from '../../src/server/syncHintGate.js';
import type { RecordedEvent } from '../../src/store/eventStore.js';

const ev = (p: number) => ({ globalPosition: BigInt(p), eventId: `e${p}` }) as unknown as RecordedEvent;
const positions = (events: RecordedEvent[]) => events.map((e) => Number(e.globalPosition));

describe('sync hint gate', () => {
  it('releases events only once every sync projection has applied them, each once', () => {
    const gate = createSyncHintGate(['inbox', 'timeline', 'sessions']);
    expect(gate.applied('inbox', [ev(1), ev(2), ev(3)])).toEqual([]);
    expect(gate.applied('timeline', [ev(1), ev(2)])).toEqual([]);
    expect(positions(gate.applied('sessions', [ev(1), ev(2), ev(3)]))).toEqual([1, 2]);
    expect(positions(gate.applied('timeline', [ev(3)]))).toEqual([3]);
    expect(gate.applied('membership', [ev(4)])).toEqual([]);
    expect(gate.applied('inbox', [ev(4)])).toEqual([]);
    expect(gate.applied('timeline', [ev(4)])).toEqual([]);
    expect(positions(gate.applied('sessions', [ev(4)]))).toEqual([4]);
  });
});
