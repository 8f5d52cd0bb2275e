// What every scenario module gets from the runner and hands back.
import type { JsonClient } from './http.js';
import type { ScenarioResult } from './report.js';
import type { Target } from './target.js';

export interface ScenarioContext {
  target: Target;
  quick: boolean;
  /** --name=value flags from the command line (numbers as strings; a bare --flag is "true"). */
  flags: Record<string, string>;
  /** A client to the first node, for set-up and checks. */
  client: JsonClient;
  log(message: string): void;
}

export interface Scenario {
  name: string;
  /** The service needs extra settings (e.g. a small FANOUT_LIMIT in quick runs). */
  serviceEnv?(quick: boolean, flags: Record<string, string>): Record<string, string>;
  /** false: the scenario does not drive the service (rebuild runs on its own PostgreSQL). */
  needsService?: boolean;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

/** A numeric flag, or its quick or full default. */
export function numberFlag(ctx: Pick<ScenarioContext, 'flags' | 'quick'>, name: string, full: number, quick: number): number {
  const raw = ctx.flags[name];
  if (raw === undefined) return ctx.quick ? quick : full;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got ${raw}`);
  return value;
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
