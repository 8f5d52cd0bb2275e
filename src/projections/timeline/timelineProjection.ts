// The timeline projection: per conversation, one item per seq (messages and system items), edits
// and recalls applied; the warm tier of history. Items are partitioned by month (partitions.ts).
import type pg from 'pg';
import type { ProjectionDefinition } from '../definition.js';
import { batchFactsOf } from '../fold/batchFacts.js';
import { itemPatchOf, monthOf, patchItem, timelineItemOf, type ItemPatch } from '../fold/eventFacts.js';
import { insertRows, tableIn, withRows, type RecordColumn } from '../shared/sql.js';
import type { TimelineItem } from '../types.js';
import { ensureMonthPartitions } from './partitions.js';

export const TIMELINE_SCHEMA = 'proj_timeline';

async function createTables(client: pg.ClientBase, schema: string): Promise<void> {
  // month is in the key (a partitioned table's key must hold the partition column); (conversation_id,
  // seq) stays unique because an item's month never changes.
  await client.query(`
    CREATE TABLE ${tableIn(schema, 'items')} (
      conversation_id text NOT NULL,
      seq integer NOT NULL,
      month date NOT NULL,
      global_position bigint NOT NULL,
      message_id text,
      item jsonb NOT NULL,
      PRIMARY KEY (conversation_id, seq, month)
    ) PARTITION BY RANGE (month);`);
}

const ITEM_COLUMNS: readonly RecordColumn[] = [
  ['conversation_id', 'text'],
  ['seq', 'integer'],
  ['month', 'date'],
  ['global_position', 'bigint'],
  ['message_id', 'text'],
  ['item', 'jsonb'],
];

interface NewItemRow {
  conversation_id: string;
  seq: number;
  month: string;
  global_position: bigint;
  message_id: string | null;
  item: TimelineItem;
}

/** Folds patches aimed at one stored item: a recall is final, a later edit replaces an earlier one. */
/**
 * Composes two patches of one stored item in log order, exactly as applying them one after the other
 * would (patchItem): a recall is final; a recall after an edit keeps the edit's editedAt; a later edit
 * replaces an earlier one. Batch boundaries must not change the result.
 */
function mergePatch(previous: ItemPatch | undefined, next: ItemPatch): ItemPatch {
  if (!previous) return next;
  if ('recalled' in previous) return previous;
  return { ...previous, ...next } as ItemPatch;
}

async function apply(client: pg.ClientBase, events: Parameters<ProjectionDefinition['apply']>[1], ctx: { schema: string }): Promise<void> {
  const facts = batchFactsOf(events).conversations;
  if (facts.length === 0) return;
  const { schema } = ctx;
  const fresh = new Map<string, NewItemRow>();
  /** Patches for items stored by earlier batches, merged per target. */
  const storedPatches = new Map<string, { c: string; s: number; patch: ItemPatch }>();

  for (const fact of facts) {
    const item = timelineItemOf(fact);
    fresh.set(`${fact.conversationId}\u0000${fact.seq}`, {
      conversation_id: fact.conversationId,
      seq: fact.seq,
      month: monthOf(fact.at),
      global_position: fact.position,
      message_id: item.kind === 'system' ? null : item.messageId,
      item,
    });
    const target = itemPatchOf(fact);
    if (!target) continue;
    const key = `${fact.conversationId}\u0000${target.targetSeq}`;
    const inBatch = fresh.get(key);
    if (inBatch) inBatch.item = patchItem(inBatch.item, target.patch);
    else storedPatches.set(key, { c: fact.conversationId, s: target.targetSeq, patch: mergePatch(storedPatches.get(key)?.patch, target.patch) });
  }

  const rows = [...fresh.values()];
  await ensureMonthPartitions(client, schema, [...new Set(rows.map((r) => r.month))]);
  await insertRows(client, tableIn(schema, 'items'), ITEM_COLUMNS, rows);
  // A system item is never patched, and a recalled message stays recalled.
  await withRows(
    client,
    `UPDATE ${tableIn(schema, 'items')} i SET item = i.item || x.patch
       FROM json_to_recordset($1::json) AS x(c text, s integer, patch jsonb)
      WHERE i.conversation_id = x.c AND i.seq = x.s AND i.item->>'kind' <> 'system' AND NOT (i.item ? 'recalled')`,
    [...storedPatches.values()],
  );
}

export const timelineProjection: ProjectionDefinition = {
  name: 'timeline',
  version: 1,
  schema: TIMELINE_SCHEMA,
  createTables,
  apply,
};
