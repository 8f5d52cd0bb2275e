// The projector side of hinting: "these users' views advanced" goes only to the nodes that hold their
// sockets (PresenceStore.nodesOf), over the hint bus; users with no socket anywhere cost one lookup and
// no message. This very node's gateway is always told directly, whatever the directory says: its own
// sockets are known locally, and a stale entry (a heartbeat late under load, a Redis outage) must not
// cost the users connected right here their hints.
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
      deps.local?.deliver(users);
      const byNode = await deps.presence.nodesOf(users);
      const sends: Array<Promise<void>> = [];
      for (const [nodeId, held] of byNode) {
        if (!deps.local || nodeId !== deps.local.nodeId) sends.push(deps.bus.publish(nodeId, held));
      }
      await Promise.all(sends);
    },
  };
}
