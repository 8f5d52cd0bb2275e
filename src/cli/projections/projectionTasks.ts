// The work behind `missive projections status|rebuild|verify`, on the configured database: names are
// already validated by the command.
import { loadConfig } from '../../config/config.js';
import {
  createProjectionRunner,
  rebuildProjection,
  verifyProjection,
  type ProjectionDeps,
  type ProjectionDifference,
  type RebuildResult,
} from '../../projections/index.js';
import { withCliContext, type CliContext } from '../cliContext.js';
import { ProjectionDriftError } from '../cliErrors.js';
import { createRebuildProgress } from './rebuildProgress.js';
import { renderStatusTable, statusAsJson } from './renderStatus.js';

const depsOf = ({ pool, store, config }: CliContext): ProjectionDeps => ({ pool, store, fanoutLimit: config.fanoutLimit });
const print = (text: string) => process.stdout.write(`${text}\n`);

export function printStatus(json: boolean): Promise<void> {
  return withCliContext(loadConfig(), async (context) => {
    const statuses = await createProjectionRunner(depsOf(context)).status();
    print(json ? JSON.stringify(statusAsJson(statuses), null, 2) : renderStatusTable(statuses));
  });
}

/** Rebuilds each projection in turn, a progress bar on stderr and a result line on stdout for each. */
export function rebuildProjections(names: readonly string[]): Promise<void> {
  return withCliContext(loadConfig(), async (context) => {
    for (const name of names) {
      const result = await rebuildWithProgressBar(depsOf(context), name);
      const seconds = result.durationMs / 1000;
      const rate = seconds > 0 ? Math.round(result.events / seconds) : result.events;
      print(`rebuilt ${result.name}: epoch ${result.epoch}, position ${result.position}, ${result.events} events in ${seconds.toFixed(1)} s (${rate} events/s)`);
    }
  });
}

async function rebuildWithProgressBar(deps: ProjectionDeps, name: string): Promise<RebuildResult> {
  const progress = createRebuildProgress(name);
  try {
    return await rebuildProjection(deps, name, { onProgress: progress.onProgress });
  } finally {
    progress.stop();
  }
}

interface Verification {
  projection: string;
  differences: ProjectionDifference[];
}

/** Prints every difference; throws ProjectionDriftError (exit 3) when any projection differs. */
export function verifyProjections(names: readonly string[], options: { json: boolean; maxDifferences: number }): Promise<void> {
  return withCliContext(loadConfig(), async (context) => {
    const results: Verification[] = [];
    for (const projection of names) {
      results.push({ projection, differences: await verifyProjection(depsOf(context), projection, { maxDifferences: options.maxDifferences }) });
    }
    print(options.json ? JSON.stringify(results, null, 2) : results.map(renderVerification).join('\n'));
    const drifted = results.filter((r) => r.differences.length > 0).map((r) => r.projection);
    if (drifted.length > 0) throw new ProjectionDriftError(drifted);
  });
}

function renderVerification({ projection, differences }: Verification): string {
  if (differences.length === 0) return `${projection}: matches the log`;
  const lines = differences.map((d) => `  ${d.kind} ${d.table}${d.row ? ` ${JSON.stringify(d.row)}` : ''}`);
  return [`${projection}: ${differences.length} difference(s)`, ...lines].join('\n');
}
