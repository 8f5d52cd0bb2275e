// One active relay at a time, whatever number of relay processes run: the active one holds a
// PostgreSQL session-level advisory lock on a dedicated connection. When that process dies, its
// connection closes and the lock is free for a standby. (Two relays at once would still be safe —
// at-least-once, deduplicated by position — but would double the traffic.)
import type pg from 'pg';
import { sleepUnlessAborted } from '../store/wakeup.js';

/** 'rely' in ASCII: the namespace of relay advisory locks (apart from the projections' 'proj'). */
const RELAY_LOCK_NAMESPACE = 0x72656c79;

export interface LeaderLease {
  /** False once the lock's connection failed: the holder must stop publishing. */
  readonly held: boolean;
  release(): Promise<void>;
}

function lockKey(name: string): number {
  let hash = 2166136261;
  for (const ch of name) hash = Math.imul(hash ^ ch.charCodeAt(0), 16777619);
  return (hash >>> 1) % 0x7fffffff;
}

/** Waits (checking every `retryMs`) until this process holds the lease; undefined if aborted first. */
export async function acquireLeaderLease(pool: pg.Pool, name: string, signal: AbortSignal, retryMs = 1_000): Promise<LeaderLease | undefined> {
  const key = lockKey(name);
  while (!signal.aborted) {
    const session = await pool.connect();
    let ok = false;
    try {
      const locked = await session.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [RELAY_LOCK_NAMESPACE, key]);
      ok = locked.rows[0]?.ok === true;
    } catch (error) {
      session.release(error as Error);
      throw error;
    }
    if (ok) return holdLease(session, key);
    session.release();
    await sleepUnlessAborted(retryMs, signal);
  }
  return undefined;
}

function holdLease(session: pg.PoolClient, key: number): LeaderLease {
  let held = true;
  const lost = () => (held = false);
  session.on('error', lost);
  session.on('end', lost);
  return {
    get held() {
      return held;
    },
    async release() {
      // The connection goes back to the pool and serves the next lease: leave no listener on it.
      session.off('error', lost);
      session.off('end', lost);
      if (!held) return session.release(true);
      held = false;
      try {
        await session.query('SELECT pg_advisory_unlock($1, $2)', [RELAY_LOCK_NAMESPACE, key]);
        session.release();
      } catch (error) {
        session.release(error as Error);
      }
    },
  };
}
