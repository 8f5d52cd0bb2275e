// The inbox projection (write fan-out): per user, an append-only timeline of references to the items
// they receive, numbered by a consecutive user-level inboxSeq. Conversations above the fan-out limit
// get no rows (read fan-out); the mode of every seq is recorded in fanout_modes so a member's sync
// can read those seqs from the group timeline instead (sync/getDelta.ts).
import type pg from 'pg';
import type { ProjectionDefinition } from '../definition.js';
import { batchFactsOf, distinct } from '../fold/batchFacts.js';
import { monthOf } from '../fold/eventFacts.js';
import { createMembershipTracker, membershipNeedsOf, type FanoutMode } from '../fold/membershipFold.js';
import { loadTrackedConversations, memberPeriodsDdl, writePeriodRows } from '../shared/memberPeriods.js';
import { createInboxLoader } from './inboxBulkLoad.js';
import { insertRows, tableIn, type RecordColumn } from '../shared/sql.js';

export const INBOX_SCHEMA = 'proj_inbox';

async function createTables(client: pg.ClientBase, schema: string): Promise<void> {
  await client.query(`
    CREATE TABLE ${tableIn(schema, 'conversations')} (
      conversation_id text PRIMARY KEY,
      member_count integer NOT NULL,
      fanout_mode text NOT NULL,
      last_seq integer NOT NULL
    );
    CREATE TABLE ${tableIn(schema, 'fanout_modes')} (
      conversation_id text NOT NULL,
      from_seq integer NOT NULL,
      mode text NOT NULL,
      PRIMARY KEY (conversation_id, from_seq)
    );
    CREATE INDEX fanout_modes_read_idx ON ${tableIn(schema, 'fanout_modes')} (conversation_id) WHERE mode = 'read';
    CREATE TABLE ${tableIn(schema, 'heads')} (
      user_id text PRIMARY KEY,
      inbox_seq bigint NOT NULL
    );
    CREATE TABLE ${tableIn(schema, 'entries')} (
      user_id text NOT NULL,
      inbox_seq bigint NOT NULL,
      kind text NOT NULL,
      conversation_id text NOT NULL,
      seq integer,
      month date,
      global_position bigint NOT NULL,
      data jsonb,
      at text,
      PRIMARY KEY (user_id, inbox_seq)
    );
    ${memberPeriodsDdl(schema)}`);
}

/** An inbox row; its inbox_seq is 0 until assignInboxSeqs numbers it. */
interface PendingEntry {
  user_id: string;
  inbox_seq: number;
  kind: 'item' | 'read' | 'settings';
  conversation_id: string;
  seq: number | null;
  month: string | null;
  global_position: bigint;
  data: Record<string, unknown> | null;
  at: string | null;
}

const ENTRY_COLUMNS: readonly RecordColumn[] = [
  ['user_id', 'text'],
  ['inbox_seq', 'bigint'],
  ['kind', 'text'],
  ['conversation_id', 'text'],
  ['seq', 'integer'],
  ['month', 'date'],
  ['global_position', 'bigint'],
  ['data', 'jsonb'],
  ['at', 'text'],
];

/**
 * Numbers each user's entries consecutively after their stored head, in place (no copy per entry:
 * a rebuild numbers millions of them) and returns the same entries, now typed as numbered.
 * Exported for tests.
 */
export function assignInboxSeqs<T extends { user_id: string; inbox_seq?: number }>(entries: readonly T[], heads: Map<string, number>): Array<T & { inbox_seq: number }> {
  for (const entry of entries) {
    const next = (heads.get(entry.user_id) ?? 0) + 1;
    heads.set(entry.user_id, next);
    entry.inbox_seq = next;
  }
  return entries as Array<T & { inbox_seq: number }>;
}

async function apply(client: pg.ClientBase, events: Parameters<ProjectionDefinition['apply']>[1], ctx: { schema: string; fanoutLimit: number }): Promise<void> {
  const { ordered, conversations: conversationFacts } = batchFactsOf(events);
  if (ordered.length === 0) return;
  const { schema, fanoutLimit } = ctx;
  const conversationIds = distinct(conversationFacts.map((f) => f.conversationId));

  const states = await client.query<{ conversation_id: string; member_count: number; fanout_mode: FanoutMode; last_seq: number }>(
    `SELECT conversation_id, member_count, fanout_mode, last_seq FROM ${tableIn(schema, 'conversations')} WHERE conversation_id = ANY($1::text[])`,
    [conversationIds],
  );
  const tracker = createMembershipTracker(
    await loadTrackedConversations(
      client,
      schema,
      states.rows.map((r) => ({ conversationId: r.conversation_id, memberCount: r.member_count, mode: r.fanout_mode })),
      membershipNeedsOf(conversationFacts),
      fanoutLimit,
    ),
    fanoutLimit,
  );
  const lastSeqs = new Map<string, number>();

  const pending: PendingEntry[] = [];
  for (const { stream, fact } of ordered) {
    if (stream === 'user') {
      const { conversationId: _c, ...data } = fact.data;
      pending.push({
        user_id: fact.userId,
        inbox_seq: 0,
        kind: fact.type === 'ConversationRead' ? 'read' : 'settings',
        conversation_id: fact.conversationId,
        seq: null,
        month: null,
        global_position: fact.position,
        data,
        at: fact.at,
      });
      continue;
    }
    const step = tracker.apply(fact);
    lastSeqs.set(fact.conversationId, fact.seq);
    if (step.mode === 'read') continue;
    // The departing user is no longer a member but receives the item that tells them so.
    const recipients = [...tracker.members(fact.conversationId), ...step.departed];
    const month = monthOf(fact.at);
    for (const userId of recipients) {
      pending.push({ user_id: userId, inbox_seq: 0, kind: 'item', conversation_id: fact.conversationId, seq: fact.seq, month, global_position: fact.position, data: null, at: null });
    }
  }

  const users = distinct(pending.map((e) => e.user_id));
  const heads = new Map<string, number>();
  if (users.length > 0) {
    const found = await client.query<{ user_id: string; inbox_seq: string }>(
      `SELECT user_id, inbox_seq FROM ${tableIn(schema, 'heads')} WHERE user_id = ANY($1::text[])`,
      [users],
    );
    for (const r of found.rows) heads.set(r.user_id, Number(r.inbox_seq));
  }
  await insertRows(client, tableIn(schema, 'entries'), ENTRY_COLUMNS, assignInboxSeqs(pending, heads));
  await insertRows(
    client,
    tableIn(schema, 'heads'),
    [['user_id', 'text'], ['inbox_seq', 'bigint']],
    users.map((u) => ({ user_id: u, inbox_seq: heads.get(u) })),
    'ON CONFLICT (user_id) DO UPDATE SET inbox_seq = EXCLUDED.inbox_seq',
  );
  await insertRows(
    client,
    tableIn(schema, 'conversations'),
    [['conversation_id', 'text'], ['member_count', 'integer'], ['fanout_mode', 'text'], ['last_seq', 'integer']],
    tracker.touched().map((c) => ({ conversation_id: c.conversationId, member_count: c.memberCount, fanout_mode: c.mode, last_seq: lastSeqs.get(c.conversationId) })),
    `ON CONFLICT (conversation_id) DO UPDATE SET member_count = EXCLUDED.member_count, fanout_mode = EXCLUDED.fanout_mode, last_seq = EXCLUDED.last_seq`,
  );
  await writePeriodRows(client, schema, tracker.periodRows());
  await insertRows(
    client,
    tableIn(schema, 'fanout_modes'),
    [['conversation_id', 'text'], ['from_seq', 'integer'], ['mode', 'text']],
    tracker.modeRows().map((m) => ({ conversation_id: m.conversationId, from_seq: m.fromSeq, mode: m.mode })),
  );
}

export const inboxProjection: ProjectionDefinition = {
  name: 'inbox',
  version: 1,
  schema: INBOX_SCHEMA,
  createTables,
  apply,
  // entries is insert-only and apply numbers rows from heads, never reading entries back: a rebuild
  // loads it without its primary key (about 11 rows per event) and builds the key once at the end.
  bulkLoad: {
    async dropIndexes(client, schema) {
      await client.query(`ALTER TABLE ${tableIn(schema, 'entries')} DROP CONSTRAINT entries_pkey`);
    },
    async restoreIndexes(client, schema) {
      await client.query("SET LOCAL maintenance_work_mem = '256MB'");
      await client.query(`ALTER TABLE ${tableIn(schema, 'entries')} ADD CONSTRAINT entries_pkey PRIMARY KEY (user_id, inbox_seq)`);
    },
    loader: (pool, ctx) => createInboxLoader(pool, ctx),
  },
};
