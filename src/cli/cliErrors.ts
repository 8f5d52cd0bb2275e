// How a CLI command ends when it fails, and the exit code scripts rely on: bad input (2, nothing was
// changed), a runtime failure such as an unreachable database (1), drift found by verify (3).
import { CommanderError } from 'commander';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_BAD_INPUT = 2;
/** `projections verify` found a read model that differs from the log. */
export const EXIT_DRIFT = 3;

export type CliInputErrorCode =
  | 'invalid_argument'
  | 'invalid_range'
  | 'conflicting_options'
  | 'unknown_event_type'
  | 'unknown_projection'
  | 'unknown_conversation'
  | 'unknown_stream'
  | 'unknown_user'
  | 'token_signing_disabled';

/** The operator asked for something malformed or unknown; it is reported before anything changes. */
export class CliInputError extends Error {
  constructor(
    readonly code: CliInputErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Verification found differences (already printed); the command ends with EXIT_DRIFT. */
export class ProjectionDriftError extends Error {
  readonly code = 'projection_drift';
  constructor(readonly projections: readonly string[]) {
    super(`${projections.length} projection(s) differ from the log: ${projections.join(', ')}`);
  }
}

const COMMANDER_SUCCESS_CODES = new Set(['commander.helpDisplayed', 'commander.version']);
// Errors of other layers that mean bad input, by their stable codes (ConfigError, InvalidStoreRequestError,
// UnknownProjectionError, TokenIssueError): matching codes keeps those layers out of the CLI's start-up.
const BAD_INPUT_CODES = new Set(['config_invalid', 'invalid_store_request', 'unknown_projection', 'invalid_user_id', 'invalid_ttl']);

const codeOf = (error: unknown): unknown => (error instanceof Error ? (error as { code?: unknown }).code : undefined);

/** The exit code for an error that ended a command. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return COMMANDER_SUCCESS_CODES.has(error.code) ? EXIT_OK : EXIT_BAD_INPUT;
  if (error instanceof ProjectionDriftError) return EXIT_DRIFT;
  if (error instanceof CliInputError || BAD_INPUT_CODES.has(codeOf(error) as string)) return EXIT_BAD_INPUT;
  return EXIT_FAILURE;
}

/** The one line (or few) printed to stderr for an error; commander has already printed its own. */
export function describeError(error: unknown): string | undefined {
  if (error instanceof CommanderError) return undefined;
  if (error instanceof Error) {
    const code = codeOf(error);
    return `error${typeof code === 'string' ? ` (${code})` : ''}: ${error.message}`;
  }
  return `error: ${String(error)}`;
}
