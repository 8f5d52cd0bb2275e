// Turns projected event batches into "these users' views advanced" notices for the gateway. It runs
// after the projection that serves sync has committed a batch, so a client that pulls on the hint finds
// the new items. Members are read from the membership read model in one query per publication.
import type pg from 'pg';
import type { RecordedEvent } from '../store/eventStore.js';
import { parseStreamId } from '../domain/streams.js';
import { getMemberIdsOf } from '../projections/index.js';

const DEPARTURES = new Set(['MemberRemoved', 'MemberLeft']);

/** Whom a batch concerns: users named directly, and conversations whose members must be looked up. */
export interface HintTargets {
  users: Set<string>;
  conversations: Set<string>;
}

export function hintTargetsOf(events: readonly RecordedEvent[], into: HintTargets = { users: new Set(), conversations: new Set() }): HintTargets {
  for (const event of events) {
    const stream = parseStreamId(event.streamId);
    if (stream.kind === 'user') into.users.add(stream.userId);
    if (stream.kind !== 'conversation') continue;
    into.conversations.add(stream.conversationId);
    // A departing member is no longer in the member list but must learn that they left.
    if (DEPARTURES.has(event.type)) into.users.add((event.data as { userId: string }).userId);
  }
  return into;
}

export async function resolveHintTargets(pool: pg.Pool, targets: HintTargets): Promise<Set<string>> {
  const users = new Set(targets.users);
  // One query for every conversation of the publication (it was one per conversation).
  const members = await getMemberIdsOf(pool, [...targets.conversations]);
  for (const ids of members.values()) for (const u of ids) users.add(u);
  return users;
}

export async function usersToHint(pool: pg.Pool, events: RecordedEvent[]): Promise<Set<string>> {
  return resolveHintTargets(pool, hintTargetsOf(events));
}
