// Who is online: a user is online while at least one of their devices holds a socket; lastSeen is the
// time of their last disconnect (or now while online). The store is a port: the embedded mode keeps it
// in this process's memory; the distributed mode will keep it in Redis (per node, refreshed by heartbeat).

export interface PresenceEntry {
  userId: string;
  online: boolean;
  /** ISO-8601; null for a user never seen (since this store started). */
  lastSeen: string | null;
}

export interface PresenceStore {
  deviceConnected(userId: string, connectionId: string, at: number): Promise<void>;
  deviceDisconnected(userId: string, connectionId: string, at: number): Promise<void>;
  get(userIds: readonly string[]): Promise<PresenceEntry[]>;
}

interface UserPresence {
  connections: Set<string>;
  lastSeen: number;
}

/**
 * In-process presence. It remembers the last-seen time of every user who connected to this process
 * (one small entry per user): the process restarts with everybody offline and never seen.
 */
export function createMemoryPresenceStore(now: () => number = Date.now): PresenceStore {
  const users = new Map<string, UserPresence>();

  return {
    async deviceConnected(userId, connectionId, at) {
      const entry = users.get(userId) ?? { connections: new Set<string>(), lastSeen: at };
      entry.connections.add(connectionId);
      entry.lastSeen = at;
      users.set(userId, entry);
    },
    async deviceDisconnected(userId, connectionId, at) {
      const entry = users.get(userId);
      if (!entry) return;
      entry.connections.delete(connectionId);
      entry.lastSeen = at;
    },
    async get(userIds) {
      const time = now();
      return userIds.map((userId) => {
        const entry = users.get(userId);
        if (!entry) return { userId, online: false, lastSeen: null };
        const online = entry.connections.size > 0;
        return { userId, online, lastSeen: new Date(online ? time : entry.lastSeen).toISOString() };
      });
    },
  };
}
