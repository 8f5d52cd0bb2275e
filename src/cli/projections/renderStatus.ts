// The output of `missive projections status`: a table for people, JSON (positions as strings) for tools.
import type { ProjectionStatus } from '../../projections/index.js';
import { renderTable } from '../textTable.js';

export const statusAsJson = (statuses: readonly ProjectionStatus[]) =>
  statuses.map((s) => ({ ...s, checkpoint: s.checkpoint.toString(), headPosition: s.headPosition.toString(), lagSeconds: roundedSeconds(s.lagSeconds) }));

export function renderStatusTable(statuses: readonly ProjectionStatus[]): string {
  return renderTable(
    ['PROJECTION', 'VERSION', 'EPOCH', 'CHECKPOINT', 'HEAD', 'LAG EVENTS', 'LAG SECONDS', 'STATE'],
    statuses.map((s) => [
      s.name,
      String(s.version),
      String(s.epoch),
      s.checkpoint.toString(),
      s.headPosition.toString(),
      String(s.lagEvents),
      roundedSeconds(s.lagSeconds).toString(),
      s.needsRebuild ? `${s.state} (needs rebuild)` : s.state,
    ]),
  );
}

const roundedSeconds = (seconds: number): number => Math.round(seconds * 10) / 10;
