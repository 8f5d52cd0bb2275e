// The projector side of hinting: "these users' views advanced" goes only to the nodes that hold their
// sockets (PresenceStore.nodesOf), over the hint bus; users with no socket anywhere cost one lookup and
// no message. Hints for this very node skip the bus.
import type { HintBus } from './hintBus.js';
import type { PresenceStore } from './presence.js';

export interface HintRouter {
  hintUsers(userIds: Iterable<string>): Promise<void>;
}

export interface HintRouterDeps {
  presence: Pick<PresenceStore, 'nodesOf'>;
  bus: HintBus;
  /** The gateway in this process, if any: its hints are delivered directly. */
  local?: { nodeId: string; deliver(userIds: string[]): void };
}

export function createHintRouter(deps: HintRouterDeps): HintRouter {
  return {
    async hintUsers(userIds) {
      const users = [...new Set(userIds)];
      if (users.length === 0) return;
      const byNode = await deps.presence.nodesOf(users);
      const sends: Array<Promise<void>> = [];
      for (const [nodeId, held] of byNode) {
        if (deps.local && nodeId === deps.local.nodeId) deps.local.deliver(held);
        else sends.push(deps.bus.publish(nodeId, held));
      }
      await Promise.all(sends);
    },
  };
}
