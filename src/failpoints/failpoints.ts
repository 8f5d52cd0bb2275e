// Failpoints: named places in the service where a fault test can make the process crash, fail or stall
// on purpose (MISSIVE_FAILPOINTS; docs in src/failpoints/README.md). Off unless configured: the disabled
// registry's reach() returns 0 and does nothing else, so the call sites cost one function call.
//
//   MISSIVE_FAILPOINTS="after-commit-before-reply=exit@0.05,projection-mid-batch=exit:after=20,publish-stall=500ms"
import fs from 'node:fs';

/** Every place a failpoint can be armed; a typo in the configuration is refused rather than ignored. */
export const FAILPOINT_NAMES = [
  /** The command handler's append has committed; the reply has not been sent. */
  'after-commit-before-reply',
  /** A live projection batch wrote its rows and checkpoint inside its transaction; the COMMIT has not run. */
  'projection-mid-batch',
  /** A committed projection batch is about to be published as sync hints to the gateway. */
  'publish-stall',
] as const;
export type FailpointName = (typeof FAILPOINT_NAMES)[number];

/**
 * What happens when a point fires. exit: process.exit(FAILPOINT_EXIT_CODE) at once, no graceful close;
 * kill: SIGKILL to itself (nothing runs after it); error: throws FailpointError; stall: waits `ms`.
 */
export type FailpointAction = { kind: 'exit' } | { kind: 'kill' } | { kind: 'error' } | { kind: 'stall'; ms: number };

export interface FailpointSpec {
  name: FailpointName;
  action: FailpointAction;
  /** Chance to fire on each reach (1: always). */
  probability: number;
  /** Reaches that pass before the point may fire (0: from the first). */
  after: number;
}

/** The exit code of the `exit` action, so a test tells a failpoint exit from any other death. */
export const FAILPOINT_EXIT_CODE = 86;
/** The line written (synchronously) to stderr before a point acts; tests count fired points by it. */
export const FAILPOINT_MARKER = 'MISSIVE-FAILPOINT-FIRED';

export class FailpointError extends Error {
  constructor(readonly failpoint: FailpointName) {
    super(`failpoint ${failpoint} fired`);
  }
}

export interface Failpoints {
  readonly armed: boolean;
  /**
   * Called at the named place. When the point is armed and its trigger fires it exits, kills the process
   * or throws; for a stall it returns the milliseconds the caller must wait. Returns 0 otherwise.
   */
  reach(name: FailpointName): number;
}

export const NO_FAILPOINTS: Failpoints = { armed: false, reach: () => 0 };

/** Waits at a stall point when one is armed and fires (await only at places that are async anyway). */
export async function stallAt(failpoints: Failpoints, name: FailpointName): Promise<void> {
  const ms = failpoints.reach(name);
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}

const ACTION = /^(exit|kill|error|(\d+)ms)(?:@(0(?:\.\d+)?|1(?:\.0+)?))?(?::after=(\d+))?$/;

/** Parses `name=action[@probability][:after=N]` entries separated by commas; throws a readable message. */
export function parseFailpoints(text: string): FailpointSpec[] {
  const specs: FailpointSpec[] = [];
  for (const entry of text.split(',').map((e) => e.trim()).filter(Boolean)) {
    const [name, action, ...rest] = entry.split('=');
    // `:after=N` contains a second '=': put it back.
    const actionText = [action, ...rest].join('=').trim();
    if (!name || !(FAILPOINT_NAMES as readonly string[]).includes(name.trim())) {
      throw new Error(`unknown failpoint '${name ?? ''}' (known: ${FAILPOINT_NAMES.join(', ')})`);
    }
    const match = ACTION.exec(actionText);
    if (!match) throw new Error(`failpoint ${name}: action '${actionText}' is not exit|kill|error|<n>ms, optionally @<probability 0..1> and :after=<n>`);
    const kind = match[1]!;
    specs.push({
      name: name.trim() as FailpointName,
      action: match[2] !== undefined ? { kind: 'stall', ms: Number(match[2]) } : { kind: kind as 'exit' | 'kill' | 'error' },
      probability: match[3] === undefined ? 1 : Number(match[3]),
      after: match[4] === undefined ? 0 : Number(match[4]),
    });
  }
  const names = specs.map((s) => s.name);
  const repeated = names.find((n, i) => names.indexOf(n) !== i);
  if (repeated) throw new Error(`failpoint ${repeated} is configured twice`);
  return specs;
}

export interface FailpointOptions {
  /** Chance source, [0, 1). */
  random?: () => number;
  /** Where the marker line goes before a point acts (stderr's file descriptor by default). */
  writeMarker?: (line: string) => void;
}

export function createFailpoints(specs: readonly FailpointSpec[], options: FailpointOptions = {}): Failpoints {
  if (specs.length === 0) return NO_FAILPOINTS;
  const random = options.random ?? Math.random;
  const writeMarker = options.writeMarker ?? ((line: string) => fs.writeSync(2, line));
  const byName = new Map(specs.map((s) => [s.name, { spec: s, reached: 0 }]));
  return {
    armed: true,
    reach(name) {
      const point = byName.get(name);
      if (!point) return 0;
      point.reached += 1;
      const { spec } = point;
      if (point.reached <= spec.after || random() >= spec.probability) return 0;
      // Synchronous write: the process may be gone a moment later.
      writeMarker(`${FAILPOINT_MARKER} ${name} ${spec.action.kind} (reach ${point.reached})\n`);
      switch (spec.action.kind) {
        case 'stall':
          return spec.action.ms;
        case 'exit':
          return process.exit(FAILPOINT_EXIT_CODE);
        case 'kill':
          process.kill(process.pid, 'SIGKILL');
          return 0;
        case 'error':
          throw new FailpointError(name);
      }
    },
  };
}
