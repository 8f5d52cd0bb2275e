// Reconstructs a conversation at a moment from the configured store and prints it (JSON or a table).
import { loadConfig } from '../../config/config.js';
import { withCliContext } from '../cliContext.js';
import type { AsOf } from '../parseOptions.js';
import { conversationAsOf } from './conversationAsOf.js';
import { renderConversationTable } from './renderConversation.js';

export type ConversationFormat = 'json' | 'table';

export function printConversationAsOf(conversationId: string, asOf: AsOf, format: ConversationFormat): Promise<void> {
  return withCliContext(loadConfig(), async ({ store }) => {
    const view = await conversationAsOf(store, conversationId, asOf);
    process.stdout.write(`${format === 'table' ? renderConversationTable(view) : JSON.stringify(view, null, 2)}\n`);
  });
}
