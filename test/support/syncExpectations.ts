// What a finished sync walk must have received, judged against the oracle: every expected item
// exactly once (none missing, none extra), each conversation's items in seq order, the user's own
// read marks and settings changes in the order they happened, and the latest session rows and
// unread total equal to the oracle's. Shared by the property and crash tests.
import { expect } from 'vitest';
import type { DeltaItem } from '../../src/projections/index.js';
import { expectedSessionRow } from '../oracle/expectedViews.js';
import { unreadTotalOf, type OracleSyncItem, type OracleUser } from '../oracle/oracle.js';
import type { SyncWalker } from './projectionViews.js';

const sortedJson = (value: Record<string, unknown>): string => JSON.stringify(Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1))));

function receivedKey(item: DeltaItem): string {
  if (item.type === 'item') {
    const event = item.item.kind === 'system' ? item.item.event : 'MessageSent';
    return `item ${item.conversationId}#${item.seq} ${event} (payload seq ${item.item.seq})`;
  }
  if (item.type === 'read') return `read ${item.conversationId} ${item.seq} ${item.deviceId}`;
  const { type: _type, conversationId, at: _at, ...changes } = item;
  return `settings ${conversationId} ${sortedJson(changes)}`;
}

function expectedKey(item: OracleSyncItem): string {
  if (item.type === 'item') return `item ${item.conversationId}#${item.seq} ${item.event} (payload seq ${item.seq})`;
  if (item.type === 'read') return `read ${item.conversationId} ${item.seq} ${item.deviceId}`;
  return `settings ${item.conversationId} ${sortedJson(item.changes)}`;
}

const sorted = (keys: string[]): string[] => [...keys].sort();

/** Checks a walker that pulled until hasMore was false against the items it should have received. */
export function expectSyncComplete(walker: SyncWalker, expectedItems: readonly OracleSyncItem[], user: OracleUser | undefined): void {
  const label = `sync of ${walker.userId}`;
  const received = walker.received.map(receivedKey);
  const expected = expectedItems.map(expectedKey);
  // Exactly once: the same multiset (a duplicate or a missing item shows in the diff).
  expect(sorted(received), `${label}: items received`).toEqual(sorted(expected));
  // The user's own events keep their order; each conversation's items come in seq order.
  const userLevel = (keys: string[]) => keys.filter((k) => !k.startsWith('item '));
  expect(userLevel(received), `${label}: order of read/settings items`).toEqual(userLevel(expected));
  const lastSeq = new Map<string, number>();
  for (const item of walker.received) {
    if (item.type !== 'item') continue;
    const previous = lastSeq.get(item.conversationId) ?? 0;
    expect(item.seq, `${label}: ${item.conversationId}#${item.seq} arrived after #${previous}`).toBeGreaterThan(previous);
    lastSeq.set(item.conversationId, item.seq);
  }
  // The newest rows a device holds are the current ones for every conversation it is in.
  expect(walker.unreadTotal, `${label}: unread total`).toBe(unreadTotalOf(user));
  for (const session of user?.sessions.values() ?? []) {
    if (!session.isMember) continue; // a departed row may change without an item for its user (README: recalls)
    expect(walker.rows.get(session.conversationId), `${label}: row ${session.conversationId}`).toEqual(expectedSessionRow(session));
  }
}
