// Public API of the projections (src/projections/README.md): the runtime (runner, rebuild, verify,
// schemas), the projection definitions and the query functions.
export * from './types.js';
export * from './errors.js';
export * from './queries.js';
export type { ApplyContext, ProjectionDefinition } from './definition.js';
export type { ProjectionDeps, ProjectionLogger } from './deps.js';
export { ALL_PROJECTIONS, findProjection } from './catalog.js';
export { createProjectionRunner, type ProjectionRunner, type ProjectionRunnerOptions, type ProjectionStatus } from './runtime.js';
export { rebuildProjection, type RebuildOptions, type RebuildResult } from './rebuild.js';
export { verifyProjection, type ProjectionDifference, type VerifyOptions } from './verify.js';
export { ensureProjectionSchemas } from './schemas.js';
export { readCheckpoint, readCheckpoints, type Checkpoint } from './checkpoints.js';
export { membershipProjection } from './membership/membershipProjection.js';
export { timelineProjection } from './timeline/timelineProjection.js';
export { inboxProjection } from './inbox/inboxProjection.js';
export { sessionsProjection } from './sessions/sessionsProjection.js';
