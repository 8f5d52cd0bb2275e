// The presence contract on the in-process adapter: several memory stores on one directory act as nodes.
import { createMemoryHintBus } from '../../src/gateway/hintBus.js';
import { createMemoryPresenceDirectory, createMemoryPresenceStore } from '../../src/gateway/presence.js';
import { describePresenceContract } from '../contract/presenceContract.js';

describePresenceContract('memory', async () => {
  const directory = createMemoryPresenceDirectory();
  return {
    node: async (name, ttlMs) => createMemoryPresenceStore(Date.now, { directory, nodeId: name, ttlMs }),
    bus: createMemoryHintBus(),
    dispose: async () => undefined,
  };
});
