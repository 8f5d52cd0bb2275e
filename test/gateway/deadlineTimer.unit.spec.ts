import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDeadlineTimer } from '../../src/gateway/deadlineTimer.js';

// Fake timers: these modules are pure timing logic, and real sleeps would be flaky on a loaded machine.
beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('deadline timer', () => {
  it('fires once the deadline passed, never synchronously', () => {
    let fired = 0;
    createDeadlineTimer(Date.now() - 5, () => fired++);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(0);
    expect(fired).toBe(1);
  });

  it('follows a moved deadline and stays silent once cancelled', () => {
    let fired = 0;
    const timer = createDeadlineTimer(Date.now() + 30, () => fired++);
    timer.moveTo(Date.now() + 80);
    vi.advanceTimersByTime(79);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(1);
    const cancelled = createDeadlineTimer(Date.now() + 10, () => fired++);
    cancelled.cancel();
    vi.advanceTimersByTime(100);
    expect(fired).toBe(1);
  });

  it('waits out deadlines beyond the 24.8-day setTimeout limit in steps', () => {
    let fired = 0;
    const day = 24 * 3600 * 1000;
    createDeadlineTimer(Date.now() + 40 * day, () => fired++);
    vi.advanceTimersByTime(39 * day);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(day);
    expect(fired).toBe(1);
  });
});
