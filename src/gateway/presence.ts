// Who is online, and on which gateway nodes their sockets are. A user is online while at least one of
// their devices holds a socket on a live node; lastSeen is the time of their last disconnect (or of the
// last heartbeat of the node that died holding them; now while online). The same records route hints:
// a hint for a user goes only to the nodes listed for them.
//
// The store is a port with two adapters that pass one contract suite (test/contract/presenceContract.ts):
// this in-process one (embedded mode, or several nodes sharing one directory object in tests) and the
// Redis one (src/gateway/redisPresence.ts) for gateways on several machines.
//
// Liveness: a node proves itself alive with heartbeat(); a node whose last heartbeat is older than ttlMs
// is dead: its sockets count for nobody, and the next heartbeat of any node removes its records. A node
// the directory has forgotten (declared dead during a long pause, or a Redis that restarted empty) learns
// it from heartbeat() → { rejoined: true } and registers its sockets again.

export interface PresenceEntry {
  userId: string;
  online: boolean;
  /** ISO-8601; null for a user never seen (since this store started). */
  lastSeen: string | null;
}

export interface PresenceStore {
  /** The id this node is routed by: unique per process run, so a restarted node never inherits stale records. */
  readonly nodeId: string;
  deviceConnected(userId: string, connectionId: string, at: number): Promise<void>;
  deviceDisconnected(userId: string, connectionId: string, at: number): Promise<void>;
  get(userIds: readonly string[]): Promise<PresenceEntry[]>;
  /** The live nodes holding a socket of any of these users, each with those of the users it holds. */
  nodesOf(userIds: readonly string[]): Promise<Map<string, string[]>>;
  /** Proves this node alive and removes the records of dead nodes. */
  heartbeat(): Promise<{ rejoined: boolean }>;
  /** A clean shutdown: this node's records vanish at once instead of after ttlMs. */
  leave(): Promise<void>;
}

/** The shared state of an in-process cluster: several memory stores on one directory act as several nodes. */
export interface MemoryPresenceDirectory {
  /** userId → connectionId → nodeId */
  readonly sockets: Map<string, Map<string, string>>;
  /** nodeId → time of its last heartbeat */
  readonly beats: Map<string, number>;
  /** userId → time of the last disconnect seen */
  readonly lastSeen: Map<string, number>;
}

export const createMemoryPresenceDirectory = (): MemoryPresenceDirectory => ({ sockets: new Map(), beats: new Map(), lastSeen: new Map() });

export interface MemoryPresenceOptions {
  /** Default: a private directory (a single node). */
  directory?: MemoryPresenceDirectory;
  nodeId?: string;
  /** Default: never expires; alone in its process, the node cannot die without its store dying too. */
  ttlMs?: number;
}

/**
 * In-process presence. It remembers the last-seen time of every user who connected (one small entry per
 * user): the process restarts with everybody offline and never seen.
 */
export function createMemoryPresenceStore(now: () => number = Date.now, options: MemoryPresenceOptions = {}): PresenceStore {
  const directory = options.directory ?? createMemoryPresenceDirectory();
  const nodeId = options.nodeId ?? 'local';
  const ttlMs = options.ttlMs ?? Number.POSITIVE_INFINITY;
  directory.beats.set(nodeId, now());

  const isLive = (node: string, time: number): boolean => {
    const beat = directory.beats.get(node);
    return beat !== undefined && time - beat <= ttlMs;
  };
  const raiseLastSeen = (userId: string, at: number): void => {
    directory.lastSeen.set(userId, Math.max(directory.lastSeen.get(userId) ?? at, at));
  };

  /** Forgets a node; its users were last seen at `lastSeenAt` (its last heartbeat, or now when it leaves). */
  function removeNode(node: string, lastSeenAt: number): void {
    directory.beats.delete(node);
    for (const [userId, sockets] of directory.sockets) {
      for (const [connectionId, holder] of sockets) {
        if (holder !== node) continue;
        sockets.delete(connectionId);
        raiseLastSeen(userId, lastSeenAt);
      }
      if (sockets.size === 0) directory.sockets.delete(userId);
    }
  }

  return {
    nodeId,
    async deviceConnected(userId, connectionId, at) {
      const sockets = directory.sockets.get(userId) ?? new Map<string, string>();
      sockets.set(connectionId, nodeId);
      directory.sockets.set(userId, sockets);
      raiseLastSeen(userId, at);
    },
    async deviceDisconnected(userId, connectionId, at) {
      const sockets = directory.sockets.get(userId);
      if (!sockets?.delete(connectionId)) return;
      if (sockets.size === 0) directory.sockets.delete(userId);
      raiseLastSeen(userId, at);
    },
    async get(userIds) {
      const time = now();
      return userIds.map((userId) => {
        let online = false;
        let seen = directory.lastSeen.get(userId);
        for (const holder of directory.sockets.get(userId)?.values() ?? []) {
          if (isLive(holder, time)) online = true;
          else seen = Math.max(seen ?? 0, directory.beats.get(holder) ?? 0);
        }
        if (online) return { userId, online, lastSeen: new Date(time).toISOString() };
        return { userId, online, lastSeen: seen === undefined ? null : new Date(seen).toISOString() };
      });
    },
    async nodesOf(userIds) {
      const time = now();
      const byNode = new Map<string, string[]>();
      for (const userId of new Set(userIds)) {
        const holders = new Set(directory.sockets.get(userId)?.values() ?? []);
        for (const holder of holders) {
          if (!isLive(holder, time)) continue;
          const users = byNode.get(holder);
          if (users) users.push(userId);
          else byNode.set(holder, [userId]);
        }
      }
      return byNode;
    },
    async heartbeat() {
      const time = now();
      for (const [node, beat] of [...directory.beats]) if (time - beat > ttlMs) removeNode(node, beat);
      const rejoined = !directory.beats.has(nodeId);
      directory.beats.set(nodeId, time);
      return { rejoined };
    },
    async leave() {
      removeNode(nodeId, now());
    },
  };
}
