// Turns projected event batches into "these users' views advanced" notices for the gateway. It runs
// after the projection that serves sync has committed a batch, so a client that pulls on the hint finds
// the new items. Members are read from the membership read model once per conversation per batch.
import type pg from 'pg';
import type { RecordedEvent } from '../store/eventStore.js';
import { parseStreamId } from '../domain/streams.js';
import { getMembers } from '../projections/index.js';

const DEPARTURES = new Set(['MemberRemoved', 'MemberLeft']);

export async function usersToHint(pool: pg.Pool, events: RecordedEvent[]): Promise<Set<string>> {
  const users = new Set<string>();
  const conversations = new Set<string>();
  for (const event of events) {
    const stream = parseStreamId(event.streamId);
    if (stream.kind === 'user') users.add(stream.userId);
    if (stream.kind !== 'conversation') continue;
    conversations.add(stream.conversationId);
    // A departing member is no longer in the member list but must learn that they left.
    if (DEPARTURES.has(event.type)) users.add((event.data as { userId: string }).userId);
  }
  for (const conversationId of conversations) {
    const membership = await getMembers(pool, conversationId);
    for (const m of membership?.members ?? []) users.add(m.userId);
  }
  return users;
}
