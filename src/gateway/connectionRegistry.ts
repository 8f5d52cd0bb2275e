// The sockets open on this node, indexed by user: a user may hold many devices at once.

export interface RegisteredConnection {
  readonly id: string;
  readonly userId: string;
}

export interface ConnectionRegistry<C extends RegisteredConnection> {
  add(connection: C): void;
  remove(connection: C): void;
  devicesOf(userId: string): ReadonlySet<C> | undefined;
  hasUser(userId: string): boolean;
  all(): IterableIterator<C>;
  socketCount(): number;
  userCount(): number;
}

export function createConnectionRegistry<C extends RegisteredConnection>(): ConnectionRegistry<C> {
  const byUser = new Map<string, Set<C>>();
  const byId = new Map<string, C>();
  return {
    add(connection) {
      byId.set(connection.id, connection);
      const devices = byUser.get(connection.userId);
      if (devices) devices.add(connection);
      else byUser.set(connection.userId, new Set([connection]));
    },
    remove(connection) {
      if (!byId.delete(connection.id)) return;
      const devices = byUser.get(connection.userId);
      devices?.delete(connection);
      if (devices?.size === 0) byUser.delete(connection.userId);
    },
    devicesOf: (userId) => byUser.get(userId),
    hasUser: (userId) => byUser.has(userId),
    all: () => byId.values(),
    socketCount: () => byId.size,
    userCount: () => byUser.size,
  };
}
