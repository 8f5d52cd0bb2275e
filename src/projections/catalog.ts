// Every projection Missive runs, in the order status lists them.
import type { ProjectionDefinition } from './definition.js';
import { UnknownProjectionError } from './errors.js';
import { inboxProjection } from './inbox/inboxProjection.js';
import { membershipProjection } from './membership/membershipProjection.js';
import { sessionsProjection } from './sessions/sessionsProjection.js';
import { timelineProjection } from './timeline/timelineProjection.js';

export const ALL_PROJECTIONS: readonly ProjectionDefinition[] = [membershipProjection, timelineProjection, inboxProjection, sessionsProjection];

export function findProjection(name: string, projections: readonly ProjectionDefinition[] = ALL_PROJECTIONS): ProjectionDefinition {
  const found = projections.find((p) => p.name === name);
  if (!found) throw new UnknownProjectionError(name);
  return found;
}
