// The hint publisher returns at once to the projector, runs one publication at a time, and merges what
// arrives meanwhile into the next publication; a failed publication does not stop the next ones.
import { describe, expect, it } from 'vitest';
import { createHintPublisher } from '../../src/server/hintPublisher.js';
import type { HintTargets } from '../../src/server/hintFeed.js';

const targets = (users: string[], conversations: string[] = []): HintTargets => ({ users: new Set(users), conversations: new Set(conversations) });

describe('hint publisher', () => {
  it('never makes the caller wait, publishes one at a time and merges what queued meanwhile', async () => {
    const published: Array<{ users: string[]; conversations: string[] }> = [];
    let release: () => void = () => {};
    const publisher = createHintPublisher(async (t) => {
      published.push({ users: [...t.users].sort(), conversations: [...t.conversations].sort() });
      if (published.length === 1) await new Promise<void>((resolve) => (release = resolve)); // a stalled publication
    }, () => {});
    publisher.add(targets(['a'], ['c1']));
    publisher.add(targets(['b'], ['c1']));
    publisher.add(targets(['a', 'c'], ['c2']));
    await new Promise((r) => setTimeout(r, 10));
    expect(published).toEqual([{ users: ['a'], conversations: ['c1'] }]);
    release();
    await publisher.idle();
    expect(published).toEqual([
      { users: ['a'], conversations: ['c1'] },
      { users: ['a', 'b', 'c'], conversations: ['c1', 'c2'] },
    ]);
  });

  it('reports a failed publication and goes on with the next', async () => {
    const errors: unknown[] = [];
    const published: string[][] = [];
    const publisher = createHintPublisher(async (t) => {
      if (t.users.has('boom')) throw new Error('boom');
      published.push([...t.users]);
    }, (e) => errors.push(e));
    publisher.add(targets(['boom']));
    await publisher.idle();
    publisher.add(targets(['ok']));
    await publisher.idle();
    expect(errors).toHaveLength(1);
    expect(published).toEqual([['ok']]);
  });
});
