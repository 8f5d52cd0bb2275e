// Coalesces "these users' views advanced" notices: a burst of notices for one user within the window
// becomes one flush (one hint per device), however many events the burst held. Pending state is one
// set of user ids, bounded by the number of users connected here (the caller filters the rest out).

export interface HintCoalescer {
  add(userIds: Iterable<string>): void;
  /** Drops anything pending and stops the timer. */
  stop(): void;
}

export function createHintCoalescer(windowMs: number, flush: (userIds: ReadonlySet<string>) => void): HintCoalescer {
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | null = null;

  function fire(): void {
    timer = null;
    const due = pending;
    pending = new Set();
    flush(due);
  }

  return {
    add(userIds) {
      for (const userId of userIds) pending.add(userId);
      if (pending.size > 0 && timer === null) timer = setTimeout(fire, windowMs);
    },
    stop() {
      if (timer) clearTimeout(timer);
      timer = null;
      pending.clear();
    },
  };
}
