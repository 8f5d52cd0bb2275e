// The failpoint registry: parsing MISSIVE_FAILPOINTS (through loadConfig, as the service does), and when a
// point fires. The exit/kill actions end the process, so they are exercised by the fault suite
// (test/faults/), not here; here a point armed with `error` shows the trigger logic.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createFailpoints, FailpointError, NO_FAILPOINTS, parseFailpoints, stallAt } from '../../src/failpoints/failpoints.js';

describe('failpoints', () => {
  it('are off by default: nothing armed, reach() returns 0', () => {
    expect(loadConfig({}).failpoints).toEqual([]);
    expect(createFailpoints([])).toBe(NO_FAILPOINTS);
    expect(NO_FAILPOINTS.reach('after-commit-before-reply')).toBe(0);
  });

  it('parses actions, probabilities and after=N from the configuration', () => {
    const config = loadConfig({ MISSIVE_FAILPOINTS: 'after-commit-before-reply=exit@0.05, projection-mid-batch=kill:after=20,publish-stall=500ms' });
    expect(config.failpoints).toEqual([
      { name: 'after-commit-before-reply', action: { kind: 'exit' }, probability: 0.05, after: 0 },
      { name: 'projection-mid-batch', action: { kind: 'kill' }, probability: 1, after: 20 },
      { name: 'publish-stall', action: { kind: 'stall', ms: 500 }, probability: 1, after: 0 },
    ]);
  });

  it('refuses unknown names, bad actions, bad probabilities and repeats, naming the problem', () => {
    expect(() => loadConfig({ MISSIVE_FAILPOINTS: 'after-comit=exit' })).toThrow(/unknown failpoint 'after-comit'/);
    expect(() => parseFailpoints('publish-stall=soon')).toThrow(/not exit\|kill\|error/);
    expect(() => parseFailpoints('publish-stall=exit@1.5')).toThrow();
    expect(() => parseFailpoints('publish-stall=exit,publish-stall=10ms')).toThrow(/twice/);
  });

  it('fires after N reaches, with the configured chance, writing a marker first', () => {
    const markers: string[] = [];
    const always = createFailpoints(parseFailpoints('projection-mid-batch=error:after=2'), { writeMarker: (l) => markers.push(l) });
    expect(always.reach('projection-mid-batch')).toBe(0);
    expect(always.reach('projection-mid-batch')).toBe(0);
    expect(() => always.reach('projection-mid-batch')).toThrow(FailpointError);
    expect(always.reach('after-commit-before-reply')).toBe(0); // not armed
    expect(markers).toEqual(['MISSIVE-FAILPOINT-FIRED projection-mid-batch error (reach 3)\n']);

    const rolls = [0.5, 0.01];
    const sometimes = createFailpoints(parseFailpoints('after-commit-before-reply=error@0.05'), { random: () => rolls.shift()!, writeMarker: () => {} });
    expect(sometimes.reach('after-commit-before-reply')).toBe(0); // 0.5 >= 0.05: no
    expect(() => sometimes.reach('after-commit-before-reply')).toThrow(FailpointError); // 0.01 < 0.05: fires
  });

  it('stalls for the configured time', async () => {
    const points = createFailpoints(parseFailpoints('publish-stall=120ms'), { writeMarker: () => {} });
    const started = Date.now();
    await stallAt(points, 'publish-stall');
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });
});
