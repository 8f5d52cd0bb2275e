// The write side: loads a conversation's (or user's) state from the in-process cache, runs the pure
// decider, and appends the resulting events with optimistic concurrency. Work on one conversation is
// serialised in this process (sends are batched into one append); a conflict with another node means
// "fold the events we missed and decide again". A retried send is deduplicated by the store through
// its deterministic event id and answers with the original messageId, seq and sentAt.
import { v7 as uuidv7 } from 'uuid';
import { decideConversation, evolveConversation, initialConversationState, type ConversationCommand, type ConversationState } from '../domain/conversation.js';
import { decideUser, evolveUser, initialUserState, type UserCommand, type UserState } from '../domain/user.js';
import { directConversationId, messageSentEventId } from '../domain/ids.js';
import type { DomainLimits } from '../domain/limits.js';
import { SCHEMA_VERSION, type ConversationEvent, type DomainEvent, type MessageSent, type UserEvent } from '../domain/events.js';
import { conversationStreamId, seqOf, userStreamId } from '../domain/streams.js';
import {
  EventIdConflictError,
  WrongExpectedRevisionError,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
} from '../store/eventStore.js';
import { NO_FAILPOINTS, type Failpoints } from '../failpoints/failpoints.js';
import { createKeyedBatcher } from './keyedBatcher.js';
import { createStreamStateCache, type StreamStateCache } from './streamStateCache.js';
import { CommandRejectedError, type CommandService, type RequestContext, type SendMessageResult } from './commandService.js';

export interface CommandHandlerOptions {
  store: EventStore;
  limits: DomainLimits;
  now?: () => number;
  newId?: () => string;
  /** Conversations (and users) whose state stays cached. */
  cacheEntries?: number;
  /** Sends to one conversation merged into one append at most. */
  maxBatch?: number;
  /** Attempts on optimistic-concurrency conflicts with other nodes before giving up. */
  maxAttempts?: number;
  /** Fault tests: 'after-commit-before-reply' is reached after every committed append. */
  failpoints?: Failpoints;
}

/** What one queued conversation job produced: the recorded events it caused (empty when nothing changed). */
type JobOutcome = { records: RecordedEvent[]; duplicate: boolean };

interface ConversationJob {
  /** Builds the command against the current state (ids and time are fixed when the job is created). */
  command: ConversationCommand;
  /** For sends: the deterministic event id used for deduplication. */
  eventId?: string;
  expectNoStream?: boolean;
}

export function createCommandHandler(options: CommandHandlerOptions): CommandService {
  const { store, limits } = options;
  const now = options.now ?? Date.now;
  const newId = options.newId ?? (() => uuidv7());
  const maxAttempts = options.maxAttempts ?? 20;
  const cacheEntries = options.cacheEntries ?? 10_000;
  const failpoints = options.failpoints ?? NO_FAILPOINTS;

  const conversations: StreamStateCache<ConversationState> = createStreamStateCache({
    store,
    initial: initialConversationState,
    // The limits decide how long recent messages stay in the state (the edit/recall windows).
    evolve: (state, e) => evolveConversation(state, { type: e.type, data: e.data } as ConversationEvent, seqOf(e.streamPosition), limits),
    maxEntries: cacheEntries,
  });
  const users: StreamStateCache<UserState> = createStreamStateCache({
    store,
    initial: initialUserState,
    evolve: (state, e) => evolveUser(state, { type: e.type, data: e.data } as UserEvent),
    maxEntries: cacheEntries,
  });

  function metadataFor(ctx: RequestContext) {
    return { actorId: ctx.actorId, deviceId: ctx.deviceId, correlationId: ctx.correlationId, schemaVersion: SCHEMA_VERSION };
  }

  function toNewEvents(ctx: RequestContext, events: DomainEvent[], job?: ConversationJob): NewEvent[] {
    return events.map((event) => ({
      eventId: event.type === 'MessageSent' && job?.eventId ? job.eventId : newId(),
      type: event.type,
      data: event.data,
      metadata: metadataFor(ctx),
    }));
  }

  /**
   * Runs a batch of jobs for one conversation: decide each against the current state, append all the
   * accepted events at once, and on a conflict with another writer fold what we missed and retry.
   * Sends in one batch do not depend on each other (only membership matters), so they are decided
   * against the same state.
   */
  async function runConversationBatch(conversationId: string, jobs: Array<{ ctx: RequestContext; job: ConversationJob }>) {
    const streamId = conversationStreamId(conversationId);
    let snapshot = await conversations.get(streamId);
    const outcomes: Array<JobOutcome | Error> = new Array(jobs.length);
    let active = jobs.map((_, i) => i);
    for (let attempt = 1; ; attempt++) {
      const toAppend: NewEvent[] = [];
      const owners: number[] = []; // index of the job that produced each event
      const firstByEventId = new Map<string, number>();
      for (const i of active) {
        const { ctx, job } = jobs[i]!;
        // The same send twice in one batch (a retry racing its original): share the first one's event.
        if (job.eventId && firstByEventId.has(job.eventId)) continue;
        const decision = decideConversation(job.command, snapshot.state, limits);
        if (!decision.ok) {
          outcomes[i] = new CommandRejectedError(decision.error.code, decision.error.message, decision.error.details);
          continue;
        }
        if (job.eventId) firstByEventId.set(job.eventId, i);
        for (const e of toNewEvents(ctx, decision.value, job)) {
          toAppend.push(e);
          owners.push(i);
        }
        outcomes[i] = { records: [], duplicate: false };
      }
      if (toAppend.length === 0) return fillShared(jobs, outcomes, firstByEventId);
      const expected = jobs.some((j) => j.job.expectNoStream) && snapshot.version === -1 ? 'no_stream' : snapshot.version;
      try {
        const result = await store.append(streamId, toAppend, expected);
        failpoints.reach('after-commit-before-reply');
        result.events.forEach(({ record, duplicate }, k) => {
          const outcome = outcomes[owners[k]!] as JobOutcome;
          outcome.records.push(record);
          if (duplicate) outcome.duplicate = true;
        });
        conversations.applyAppended(
          streamId,
          result.events.filter((e) => !e.duplicate).map((e) => e.record),
        );
        return fillShared(jobs, outcomes, firstByEventId);
      } catch (error) {
        if (error instanceof EventIdConflictError) {
          // A clientMsgId reused by this sender for another conversation: refuse that send, retry the rest.
          const culprit = active.find((i) => jobs[i]!.job.eventId === error.eventId);
          if (culprit === undefined) throw error;
          outcomes[culprit] = new CommandRejectedError('client_msg_id_reused', 'This clientMsgId was already used for another conversation');
          active = active.filter((i) => i !== culprit);
        } else if (error instanceof WrongExpectedRevisionError && attempt < maxAttempts) {
          snapshot = await conversations.catchUp(streamId);
        } else {
          throw error;
        }
      }
    }
  }

  /** Jobs that shared another job's send event get that job's outcome. */
  function fillShared(
    jobs: Array<{ job: ConversationJob }>,
    outcomes: Array<JobOutcome | Error>,
    firstByEventId: Map<string, number>,
  ): Array<JobOutcome | Error> {
    jobs.forEach(({ job }, i) => {
      if (outcomes[i] !== undefined || !job.eventId) return;
      const first = firstByEventId.get(job.eventId);
      const shared = first === undefined ? undefined : outcomes[first];
      outcomes[i] = shared instanceof Error || shared === undefined ? (shared ?? new Error('send lost its batch')) : { records: shared.records, duplicate: true };
    });
    return outcomes;
  }

  const conversationQueue = createKeyedBatcher<{ ctx: RequestContext; job: ConversationJob }, JobOutcome>({
    runBatch: runConversationBatch,
    // Only sends are batched together; management commands run alone so each decides on fresh state.
    canJoin: (first, next) => first.job.command.type === 'SendMessage' && next.job.command.type === 'SendMessage',
    maxBatch: options.maxBatch ?? 64,
  });

  async function runConversation(ctx: RequestContext, conversationId: string, job: ConversationJob): Promise<JobOutcome> {
    return conversationQueue.submit(conversationId, { ctx, job });
  }

  /** seq of the last event a job appended (or of the stored duplicate). */
  function lastSeqOf(outcome: JobOutcome, conversationId: string): number {
    const last = outcome.records.at(-1);
    if (!last) throw new CommandRejectedError('no_change', `Nothing changed in conversation ${conversationId}`);
    return seqOf(last.streamPosition);
  }

  async function simple(ctx: RequestContext, conversationId: string, command: ConversationCommand) {
    return { seq: lastSeqOf(await runConversation(ctx, conversationId, { command }), conversationId) };
  }

  const userQueue = createKeyedBatcher<{ ctx: RequestContext; command: UserCommand }, RecordedEvent[]>({
    runBatch: async (userId, jobs) => {
      const streamId = userStreamId(userId);
      const results: Array<RecordedEvent[] | Error> = [];
      for (const { ctx, command } of jobs) {
        for (let attempt = 1; ; attempt++) {
          const snapshot = await users.get(streamId);
          const decision = decideUser(command, snapshot.state);
          if (!decision.ok) {
            results.push(new CommandRejectedError(decision.error.code, decision.error.message, decision.error.details));
            break;
          }
          if (decision.value.length === 0) {
            results.push([]);
            break;
          }
          try {
            const appended = await store.append(streamId, toNewEvents(ctx, decision.value), snapshot.version);
            failpoints.reach('after-commit-before-reply');
            const records = appended.events.map((e) => e.record);
            users.applyAppended(streamId, records);
            results.push(records);
            break;
          } catch (error) {
            if (!(error instanceof WrongExpectedRevisionError) || attempt >= maxAttempts) throw error;
            await users.catchUp(streamId);
          }
        }
      }
      return results;
    },
    canJoin: () => true,
    maxBatch: 32,
  });

  /** The conversation's state, refreshed from the store when `minSeq` is beyond what the cache knows. */
  async function conversationState(conversationId: string, minSeq = 0): Promise<ConversationState> {
    const streamId = conversationStreamId(conversationId);
    let snapshot = await conversations.get(streamId);
    if (minSeq > snapshot.version + 1) snapshot = await conversations.catchUp(streamId);
    return snapshot.state;
  }

  function membershipOf(state: ConversationState, userId: string) {
    const open = state.status === 'open';
    return { isMember: open && state.members.has(userId), lastSeq: open ? state.lastSeq : 0 };
  }

  return {
    async openDirect(ctx, peerId) {
      const conversationId = directConversationId(ctx.actorId, peerId);
      const outcome = await runConversation(ctx, conversationId, {
        command: { type: 'OpenDirect', actorId: ctx.actorId, now: now(), conversationId, peerId },
        expectNoStream: true,
      });
      return { conversationId, created: outcome.records.length > 0 };
    },

    async createGroup(ctx, input) {
      const conversationId = newId();
      const outcome = await runConversation(ctx, conversationId, {
        command: { type: 'CreateGroup', actorId: ctx.actorId, now: now(), conversationId, name: input.name, memberIds: input.memberIds },
        expectNoStream: true,
      });
      return { conversationId, seq: lastSeqOf(outcome, conversationId) };
    },

    renameGroup: (ctx, id, name) => simple(ctx, id, { type: 'RenameGroup', actorId: ctx.actorId, now: now(), name }),
    addMembers: (ctx, id, userIds) => simple(ctx, id, { type: 'AddMembers', actorId: ctx.actorId, now: now(), userIds }),
    removeMember: (ctx, id, userId) => simple(ctx, id, { type: 'RemoveMember', actorId: ctx.actorId, now: now(), userId }),
    leaveGroup: (ctx, id) => simple(ctx, id, { type: 'LeaveGroup', actorId: ctx.actorId, now: now() }),
    changeRole: (ctx, id, userId, role) => simple(ctx, id, { type: 'ChangeRole', actorId: ctx.actorId, now: now(), userId, role }),
    dissolveGroup: (ctx, id) => simple(ctx, id, { type: 'DissolveGroup', actorId: ctx.actorId, now: now() }),

    async sendMessage(ctx, conversationId, input): Promise<SendMessageResult> {
      const eventId = messageSentEventId(ctx.actorId, input.clientMsgId);
      const command: ConversationCommand = {
        type: 'SendMessage',
        actorId: ctx.actorId,
        now: now(),
        messageId: newId(),
        clientMsgId: input.clientMsgId,
        kind: input.kind,
        body: input.body,
      };
      const outcome = await runConversation(ctx, conversationId, { command, eventId });
      const record = outcome.records[0]!;
      const data = record.data as MessageSent['data'];
      return { messageId: data.messageId, seq: seqOf(record.streamPosition), sentAt: data.sentAt, duplicate: outcome.duplicate };
    },

    async editMessage(ctx, conversationId, messageId, body) {
      const outcome = await runConversation(ctx, conversationId, {
        command: { type: 'EditMessage', actorId: ctx.actorId, now: now(), messageId, body },
      });
      const record = outcome.records.at(-1)!;
      return { seq: seqOf(record.streamPosition), editedAt: (record.data as { editedAt: string }).editedAt };
    },

    async recallMessage(ctx, conversationId, messageId) {
      const outcome = await runConversation(ctx, conversationId, {
        command: { type: 'RecallMessage', actorId: ctx.actorId, now: now(), messageId },
      });
      const record = outcome.records.at(-1)!;
      return { seq: seqOf(record.streamPosition), recalledAt: (record.data as { recalledAt: string }).recalledAt };
    },

    async markRead(ctx, conversationId, seq) {
      const state = await conversationState(conversationId, seq);
      const { isMember, lastSeq } = membershipOf(state, ctx.actorId);
      const command: UserCommand = {
        type: 'MarkRead',
        userId: ctx.actorId,
        conversationId,
        seq,
        deviceId: ctx.deviceId ?? 'unknown',
        now: now(),
        conversationLastSeq: lastSeq,
        isMember,
      };
      const records = await userQueue.submit(ctx.actorId, { ctx, command });
      const written = records.at(-1)?.data as { seq: number } | undefined;
      if (written) return { seq: written.seq };
      const snapshot = await users.get(userStreamId(ctx.actorId));
      return { seq: snapshot.state.marks.get(conversationId) ?? 0 };
    },

    async changeSettings(ctx, conversationId, settings) {
      const { isMember } = membershipOf(await conversationState(conversationId), ctx.actorId);
      const command: UserCommand = { type: 'ChangeSettings', userId: ctx.actorId, conversationId, now: now(), isMember, ...settings };
      await userQueue.submit(ctx.actorId, { ctx, command });
    },
  };
}
