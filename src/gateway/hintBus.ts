// Carries "these users' views advanced" from the node that learned it (the projector side) to one gateway
// node (the one holding the users' sockets, found with PresenceStore.nodesOf). Fire-and-forget: a hint
// lost on the way costs freshness, never data, because clients pull with their own sync token.
// Two adapters: this in-process one, and Redis pub/sub with one channel per node (redisHintBus.ts).

export type HintListener = (userIds: string[]) => void;

export interface HintBus {
  /** Tells node `nodeId` these users' views advanced; resolves when handed over, not when delivered. */
  publish(nodeId: string, userIds: readonly string[]): Promise<void>;
  /** Receives the hints addressed to `nodeId`; resolves once subscribed. */
  subscribe(nodeId: string, listener: HintListener): Promise<{ unsubscribe(): Promise<void> }>;
}

/** In-process bus: nodes of one process (embedded mode, tests) hand hints to each other directly. */
export function createMemoryHintBus(): HintBus {
  const listeners = new Map<string, Set<HintListener>>();
  return {
    async publish(nodeId, userIds) {
      for (const listener of listeners.get(nodeId) ?? []) listener([...userIds]);
    },
    async subscribe(nodeId, listener) {
      const set = listeners.get(nodeId) ?? new Set<HintListener>();
      set.add(listener);
      listeners.set(nodeId, set);
      return {
        async unsubscribe() {
          set.delete(listener);
          if (set.size === 0) listeners.delete(nodeId);
        },
      };
    },
  };
}
