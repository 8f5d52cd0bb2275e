// Runs a validated replay query against the configured store and prints NDJSON to stdout.
import { loadConfig } from '../../config/config.js';
import { withCliContext } from '../cliContext.js';
import { toJsonEnvelope } from '../../store/jsonEnvelope.js';
import { createLineOutput } from '../lineOutput.js';
import { replayEvents } from './replayEvents.js';
import type { ReplayQuery } from './replayQuery.js';

export function printReplay(query: ReplayQuery): Promise<void> {
  return withCliContext(loadConfig(), async ({ store }) => {
    const output = createLineOutput();
    for await (const event of replayEvents(store, query)) {
      if (!(await output.write(JSON.stringify(toJsonEnvelope(event))))) return;
    }
  });
}
