import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHintCoalescer } from '../../src/gateway/hintCoalescer.js';

// Fake timers: these modules are pure timing logic, and real sleeps would be flaky on a loaded machine.
beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('hint coalescer', () => {
  it('turns a burst of notices into one flush holding each user once', () => {
    const flushes: string[][] = [];
    const coalescer = createHintCoalescer(20, (users) => flushes.push([...users].sort()));
    coalescer.add(['a', 'b']);
    vi.advanceTimersByTime(10);
    coalescer.add(['a']);
    coalescer.add(new Set(['c', 'a']));
    expect(flushes).toEqual([]);
    vi.advanceTimersByTime(10);
    expect(flushes).toEqual([['a', 'b', 'c']]);
    coalescer.add(['a']);
    vi.advanceTimersByTime(20);
    expect(flushes).toEqual([['a', 'b', 'c'], ['a']]);
    coalescer.stop();
  });

  it('flushes nothing after stop and sets no timer for an empty notice', () => {
    const flushes: unknown[] = [];
    const coalescer = createHintCoalescer(10, (users) => flushes.push(users));
    coalescer.add([]);
    expect(vi.getTimerCount()).toBe(0);
    coalescer.add(['a']);
    coalescer.stop();
    vi.advanceTimersByTime(50);
    expect(flushes).toEqual([]);
  });
});
