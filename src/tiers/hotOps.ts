// Pure: what a batch of recorded events does to the hot tier. Every conversation event puts its item
// at its seq (the same item the timeline stores: eventFacts.ts), and an edit or a recall also patches
// the item it targets. Other events change nothing here.
import { batchFactsOf } from '../projections/fold/batchFacts.js';
import { itemPatchOf, timelineItemOf } from '../projections/fold/eventFacts.js';
import type { RecordedEvent } from '../store/eventStore.js';
import { itemTimeMs, type HotOp } from './hotStore.js';

export function hotOpsOf(events: readonly RecordedEvent[]): HotOp[] {
  const ops: HotOp[] = [];
  for (const fact of batchFactsOf(events).conversations) {
    const item = timelineItemOf(fact);
    ops.push({ op: 'put', conversationId: fact.conversationId, seq: fact.seq, item, atMs: itemTimeMs(item) });
    const target = itemPatchOf(fact);
    if (target) ops.push({ op: 'patch', conversationId: fact.conversationId, targetSeq: target.targetSeq, patch: target.patch });
  }
  return ops;
}
