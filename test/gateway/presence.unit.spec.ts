import { describe, expect, it } from 'vitest';
import { createMemoryPresenceStore } from '../../src/gateway/presence.js';

describe('memory presence store', () => {
  it('keeps a user online while any device is connected and remembers the last disconnect', async () => {
    let clock = 1_000_000;
    const store = createMemoryPresenceStore(() => clock);
    await store.deviceConnected('u1', 'a', clock);
    await store.deviceConnected('u1', 'b', clock);
    clock += 1000;
    await store.deviceDisconnected('u1', 'a', clock);
    expect(await store.get(['u1'])).toEqual([{ userId: 'u1', online: true, lastSeen: new Date(clock).toISOString() }]);
    const leftAt = clock + 500;
    await store.deviceDisconnected('u1', 'b', leftAt);
    clock += 60_000;
    expect(await store.get(['u1', 'never'])).toEqual([
      { userId: 'u1', online: false, lastSeen: new Date(leftAt).toISOString() },
      { userId: 'never', online: false, lastSeen: null },
    ]);
  });
});
