// A timer for an absolute deadline (a token's expiry) that may lie further ahead than setTimeout's
// ~24.8-day limit: it wakes up in steps until the deadline has passed. It can be moved (token renewal).

const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export interface DeadlineTimer {
  moveTo(deadline: number): void;
  cancel(): void;
}

export function createDeadlineTimer(deadline: number, onDeadline: () => void, now: () => number = Date.now): DeadlineTimer {
  let timer: NodeJS.Timeout | null = null;
  let current = deadline;

  function arm(): void {
    timer = setTimeout(check, Math.min(Math.max(current - now(), 0), MAX_TIMEOUT_MS));
  }

  function check(): void {
    timer = null;
    if (now() >= current) onDeadline();
    else arm();
  }

  arm();
  return {
    moveTo(next) {
      if (timer) clearTimeout(timer);
      current = next;
      arm();
    },
    cancel() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
