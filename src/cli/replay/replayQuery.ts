// What `missive replay` selects, as a validated value, and the per-event tests that decide it. Pure:
// the reading loop (replayEvents.ts) feeds events in global order and asks these whether to print.
import type { DomainEventType } from '../../domain/events.js';
import type { RecordedEvent } from '../../store/eventStore.js';
import { parseStreamId, userStreamId } from '../../domain/streams.js';

/** Where events come from: one stream, one conversation's stream, one user's involvement, or the whole log. */
export type ReplaySource =
  | { kind: 'stream'; streamId: string }
  | { kind: 'conversation'; conversationId: string }
  | { kind: 'user'; userId: string }
  | { kind: 'all' };

export interface ReplayQuery {
  source: ReplaySource;
  types?: ReadonlySet<DomainEventType>;
  fromTime?: Date;
  toTime?: Date;
  /** Inclusive global positions. */
  fromPosition?: bigint;
  toPosition?: bigint;
  limit?: number;
}

/** The type, time and position filters (the source is decided by how the log is read). */
export function passesFilters(query: ReplayQuery, event: RecordedEvent): boolean {
  if (query.types && !query.types.has(event.type as DomainEventType)) return false;
  if (query.fromPosition !== undefined && event.globalPosition < query.fromPosition) return false;
  if (query.toPosition !== undefined && event.globalPosition > query.toPosition) return false;
  if (query.fromTime && event.recordedAt < query.fromTime) return false;
  if (query.toTime && event.recordedAt > query.toTime) return false;
  return true;
}

const JOINING_TYPES = new Set(['DirectConversationOpened', 'GroupCreated', 'MembersAdded']);
const DEPARTING_TYPES = new Set(['MemberRemoved', 'MemberLeft']);

function namesUserAsJoining(event: RecordedEvent, userId: string): boolean {
  if (!JOINING_TYPES.has(event.type)) return false;
  const data = event.data as { memberIds?: string[]; userIds?: string[] };
  return (data.memberIds ?? data.userIds ?? []).includes(userId);
}

/**
 * Decides, event by event in global order, which events concern one user: everything in their own
 * stream, and every conversation event recorded while they were a member, from the event that made
 * them one (DirectConversationOpened, GroupCreated or MembersAdded naming them) through the one that
 * ended it (MemberRemoved or MemberLeft naming them), both included. Memory: one entry per
 * conversation the user is currently in.
 */
export function createUserInvolvement(userId: string) {
  const ownStream = userStreamId(userId);
  const memberOf = new Set<string>();
  let seen = false;
  return {
    /** True when `event` concerns the user; must be called for every event, in global order. */
    concerns(event: RecordedEvent): boolean {
      if (event.streamId === ownStream) return (seen = true);
      const stream = parseStreamId(event.streamId);
      if (stream.kind !== 'conversation') return false;
      if (namesUserAsJoining(event, userId)) {
        memberOf.add(stream.conversationId);
        return (seen = true);
      }
      if (!memberOf.has(stream.conversationId)) return false;
      if (DEPARTING_TYPES.has(event.type) && (event.data as { userId?: string }).userId === userId) memberOf.delete(stream.conversationId);
      return true;
    },
    /** Whether the log mentioned the user at all (own stream or a membership), whatever the filters. */
    get seen(): boolean {
      return seen;
    },
  };
}
