// The typed errors of the projection layer, each with a stable code the API and CLI map to answers.

/** A sync cursor from another projection epoch (or past what the views still hold): start over. */
export class ResyncRequiredError extends Error {
  readonly code = 'resync_required';
  constructor(
    readonly reason: 'epoch_changed' | 'history_evicted' | 'cursor_ahead',
    message: string,
  ) {
    super(message);
  }
}

/** A query argument out of its domain (limit, seq, cursor shape): nothing was read. */
export class InvalidQueryError extends Error {
  readonly code = 'invalid_query';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** An opaque pagination cursor that this service did not issue. */
export class InvalidCursorError extends Error {
  readonly code = 'invalid_cursor';
}

export class UnknownProjectionError extends Error {
  readonly code = 'unknown_projection';
  constructor(readonly projectionName: string) {
    super(`Unknown projection: ${projectionName}`);
  }
}

/** Another process is already rebuilding (or verifying) this projection. */
export class RebuildInProgressError extends Error {
  readonly code = 'rebuild_in_progress';
  constructor(readonly projectionName: string) {
    super(`Projection ${projectionName} is already being rebuilt or verified`);
  }
}

/** The stored read model is not in a state this code can apply to (e.g. built by another version). */
export class ProjectionStateError extends Error {
  readonly code = 'projection_state_invalid';
}
