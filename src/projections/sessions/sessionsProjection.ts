// The sessions projection (the conversation list, with unread and read marks): per-conversation
// heads written once per event, per (user, conversation) rows with settings, read mark and unread,
// and a message index from which unread is recounted. Unread and sessions are one projection with
// one checkpoint so a row and its unread can never disagree (README.md).
import type pg from 'pg';
import type { ProjectionDefinition } from '../definition.js';
import { batchFactsOf, distinct } from '../fold/batchFacts.js';
import { createMembershipTracker, membershipEffectOf, membershipNeedsOf, type FanoutMode } from '../fold/membershipFold.js';
import { loadTrackedConversations, memberPeriodsDdl, writePeriodRows } from '../shared/memberPeriods.js';
import { insertRows, tableIn, withRows, type RecordColumn } from '../shared/sql.js';
import type { ConversationKind, MessagePreview } from '../types.js';
import { foldSessionsBatch, rowKey, type SessionConversation, type SessionMemberRow, type SessionsBatchResult } from './sessionsFold.js';
import { unreadCountSql } from './unreadSql.js';

export const SESSIONS_SCHEMA = 'proj_sessions';

async function createTables(client: pg.ClientBase, schema: string): Promise<void> {
  await client.query(`
    CREATE TABLE ${tableIn(schema, 'conversations')} (
      conversation_id text PRIMARY KEY,
      kind text NOT NULL,
      name text,
      direct_members text[],
      member_count integer NOT NULL,
      fanout_mode text NOT NULL,
      last_seq integer NOT NULL,
      last_message jsonb,
      updated_at timestamptz,
      dissolved boolean NOT NULL
    );
    CREATE TABLE ${tableIn(schema, 'rows')} (
      user_id text NOT NULL,
      conversation_id text NOT NULL,
      active boolean NOT NULL,
      last_read_seq integer NOT NULL,
      -- NULL while the conversation is read fan-out: then unread is counted at query time.
      unread integer,
      muted boolean NOT NULL,
      pinned boolean NOT NULL,
      hidden boolean NOT NULL,
      frozen_name text,
      frozen_last_seq integer,
      frozen_last_message jsonb,
      frozen_updated_at timestamptz,
      PRIMARY KEY (user_id, conversation_id)
    );
    CREATE INDEX rows_conversation_idx ON ${tableIn(schema, 'rows')} (conversation_id);
    CREATE TABLE ${tableIn(schema, 'messages')} (
      conversation_id text NOT NULL,
      seq integer NOT NULL,
      sender_id text NOT NULL,
      recalled boolean NOT NULL,
      PRIMARY KEY (conversation_id, seq)
    );
    ${memberPeriodsDdl(schema)}`);
}

interface StoredConversation {
  conversation_id: string;
  kind: ConversationKind;
  name: string | null;
  direct_members: string[] | null;
  member_count: number;
  fanout_mode: FanoutMode;
  last_seq: number;
  last_message: MessagePreview | null;
  updated_at: Date | null;
  dissolved: boolean;
}

interface StoredRow {
  user_id: string;
  conversation_id: string;
  active: boolean;
  last_read_seq: number;
  muted: boolean;
  pinned: boolean;
  hidden: boolean;
  frozen_name: string | null;
  frozen_last_seq: number | null;
  frozen_last_message: MessagePreview | null;
  frozen_updated_at: Date | null;
}

const isoOrNull = (date: Date | null): string | null => (date ? date.toISOString() : null);

function toSessionConversation(r: StoredConversation): SessionConversation {
  return {
    conversationId: r.conversation_id,
    kind: r.kind,
    name: r.name,
    directMembers: r.direct_members,
    lastSeq: r.last_seq,
    lastMessage: r.last_message,
    updatedAt: isoOrNull(r.updated_at),
    dissolved: r.dissolved,
  };
}

function toSessionRow(r: StoredRow): SessionMemberRow {
  return {
    userId: r.user_id,
    conversationId: r.conversation_id,
    active: r.active,
    lastReadSeq: r.last_read_seq,
    muted: r.muted,
    pinned: r.pinned,
    hidden: r.hidden,
    frozen:
      r.frozen_last_seq === null
        ? null
        : { name: r.frozen_name, lastSeq: r.frozen_last_seq, lastMessage: r.frozen_last_message, updatedAt: isoOrNull(r.frozen_updated_at) },
    isNew: false,
  };
}

/** The (user, conversation) rows a batch reads before folding: read marks, settings and membership changes. */
function rowPairsOf(batch: ReturnType<typeof batchFactsOf>): { u: string; c: string }[] {
  const pairs = new Map<string, { u: string; c: string }>();
  for (const f of batch.users) pairs.set(rowKey(f.userId, f.conversationId), { u: f.userId, c: f.conversationId });
  for (const f of batch.conversations) {
    const effect = membershipEffectOf(f);
    for (const u of [...effect.joins, ...effect.departs]) pairs.set(rowKey(u, f.conversationId), { u, c: f.conversationId });
  }
  return [...pairs.values()];
}

const CONVERSATION_COLUMNS: readonly RecordColumn[] = [
  ['conversation_id', 'text'],
  ['kind', 'text'],
  ['name', 'text'],
  ['direct_members', 'text[]'],
  ['member_count', 'integer'],
  ['fanout_mode', 'text'],
  ['last_seq', 'integer'],
  ['last_message', 'jsonb'],
  ['updated_at', 'timestamptz'],
  ['dissolved', 'boolean'],
];

const ROW_COLUMNS: readonly RecordColumn[] = [
  ['user_id', 'text'],
  ['conversation_id', 'text'],
  ['active', 'boolean'],
  ['last_read_seq', 'integer'],
  ['unread', 'integer'],
  ['muted', 'boolean'],
  ['pinned', 'boolean'],
  ['hidden', 'boolean'],
  ['frozen_name', 'text'],
  ['frozen_last_seq', 'integer'],
  ['frozen_last_message', 'jsonb'],
  ['frozen_updated_at', 'timestamptz'],
];

async function apply(client: pg.ClientBase, events: Parameters<ProjectionDefinition['apply']>[1], ctx: { schema: string; fanoutLimit: number }): Promise<void> {
  const batch = batchFactsOf(events);
  if (batch.ordered.length === 0) return;
  const { schema, fanoutLimit } = ctx;
  const t = (name: string) => tableIn(schema, name);

  const ids = distinct([...batch.conversations.map((f) => f.conversationId), ...batch.users.map((f) => f.conversationId)]);
  const stored = await client.query<StoredConversation>(`SELECT * FROM ${t('conversations')} WHERE conversation_id = ANY($1::text[])`, [ids]);
  const conversations = new Map(stored.rows.map((r) => [r.conversation_id, toSessionConversation(r)]));
  const startModes = new Map(stored.rows.map((r) => [r.conversation_id, r.fanout_mode]));
  const tracked = new Set(batch.conversations.map((f) => f.conversationId));
  const tracker = createMembershipTracker(
    await loadTrackedConversations(
      client,
      schema,
      stored.rows
        .filter((r) => tracked.has(r.conversation_id))
        .map((r) => ({ conversationId: r.conversation_id, memberCount: r.member_count, mode: r.fanout_mode })),
      membershipNeedsOf(batch.conversations),
      fanoutLimit,
    ),
    fanoutLimit,
  );
  const pairs = rowPairsOf(batch);
  const rows = new Map<string, SessionMemberRow>();
  if (pairs.length > 0) {
    const found = await client.query<StoredRow>(
      `SELECT r.* FROM ${t('rows')} r JOIN json_to_recordset($1::json) AS x(u text, c text) ON r.user_id = x.u AND r.conversation_id = x.c`,
      [JSON.stringify(pairs)],
    );
    for (const r of found.rows) rows.set(rowKey(r.user_id, r.conversation_id), toSessionRow(r));
  }

  const result = foldSessionsBatch({ ordered: batch.ordered, conversations, rows, startModes, tracker });
  await writeSessionsBatch(client, schema, result, tracker);
}

async function writeSessionsBatch(
  client: pg.ClientBase,
  schema: string,
  result: SessionsBatchResult,
  tracker: ReturnType<typeof createMembershipTracker>,
): Promise<void> {
  const t = (name: string) => tableIn(schema, name);
  const modeOf = (c: string): FanoutMode => result.endModes.get(c) ?? 'write';

  await insertRows(
    client,
    t('conversations'),
    CONVERSATION_COLUMNS,
    result.conversations.map((c) => ({
        conversation_id: c.conversationId,
        kind: c.kind,
        name: c.name,
        direct_members: c.directMembers,
        member_count: tracker.get(c.conversationId).memberCount,
        fanout_mode: modeOf(c.conversationId),
        last_seq: c.lastSeq,
        last_message: c.lastMessage,
        updated_at: c.updatedAt,
      dissolved: c.dissolved,
    })),
    `ON CONFLICT (conversation_id) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name, direct_members = EXCLUDED.direct_members,
       member_count = EXCLUDED.member_count, fanout_mode = EXCLUDED.fanout_mode, last_seq = EXCLUDED.last_seq,
       last_message = EXCLUDED.last_message, updated_at = EXCLUDED.updated_at, dissolved = EXCLUDED.dissolved`,
  );
  await writePeriodRows(client, schema, tracker.periodRows());
  await insertRows(
    client,
    t('messages'),
    [['conversation_id', 'text'], ['seq', 'integer'], ['sender_id', 'text'], ['recalled', 'boolean']],
    result.newMessages,
  );
  await insertRows(
    client,
    t('rows'),
    ROW_COLUMNS,
    result.rows.map((r) => ({
      user_id: r.userId,
      conversation_id: r.conversationId,
      active: r.active,
      last_read_seq: r.lastReadSeq,
      unread: modeOf(r.conversationId) === 'read' ? null : 0,
      muted: r.muted,
      pinned: r.pinned,
      hidden: r.hidden,
      frozen_name: r.frozen?.name ?? null,
      frozen_last_seq: r.frozen?.lastSeq ?? null,
      frozen_last_message: r.frozen?.lastMessage ?? null,
      frozen_updated_at: r.frozen?.updatedAt ?? null,
    })),
    `ON CONFLICT (user_id, conversation_id) DO UPDATE SET active = EXCLUDED.active, last_read_seq = EXCLUDED.last_read_seq,
       muted = EXCLUDED.muted, pinned = EXCLUDED.pinned, hidden = EXCLUDED.hidden, frozen_name = EXCLUDED.frozen_name,
       frozen_last_seq = EXCLUDED.frozen_last_seq, frozen_last_message = EXCLUDED.frozen_last_message,
       frozen_updated_at = EXCLUDED.frozen_updated_at`,
  );
  // A recalled stored message leaves the counters of the rows that counted it (before it is marked).
  await withRows(
    client,
    `UPDATE ${t('rows')} r SET unread = r.unread - d.n
       FROM (SELECT p.user_id, p.conversation_id, count(*)::integer AS n
               FROM json_to_recordset($1::json) AS x(c text, s integer)
               JOIN ${t('messages')} m ON m.conversation_id = x.c AND m.seq = x.s AND NOT m.recalled
               JOIN ${t('member_periods')} p ON p.conversation_id = x.c AND p.user_id <> m.sender_id
                    AND x.s > p.from_seq AND (p.to_seq IS NULL OR x.s <= p.to_seq)
               JOIN ${t('rows')} r2 ON r2.user_id = p.user_id AND r2.conversation_id = x.c AND r2.last_read_seq < x.s
              GROUP BY p.user_id, p.conversation_id) d
      WHERE r.user_id = d.user_id AND r.conversation_id = d.conversation_id AND r.unread IS NOT NULL`,
    result.decrementRecalls,
  );
  await withRows(
    client,
    `UPDATE ${t('messages')} m SET recalled = true FROM json_to_recordset($1::json) AS x(c text, s integer)
      WHERE m.conversation_id = x.c AND m.seq = x.s`,
    result.storedRecalls,
  );
  // The most frequent write (one row per recipient of every message): typed arrays, which PostgreSQL
  // parses much faster than a JSON recordset.
  if (result.increments.length > 0) {
    await client.query(
      `UPDATE ${t('rows')} r SET unread = r.unread + x.n FROM unnest($1::text[], $2::text[], $3::integer[]) AS x(u, c, n)
        WHERE r.user_id = x.u AND r.conversation_id = x.c AND r.unread IS NOT NULL`,
      [result.increments.map((i) => i.u), result.increments.map((i) => i.c), result.increments.map((i) => i.n)],
    );
  }
  await withRows(
    client,
    `UPDATE ${t('rows')} r SET unread = ${unreadCountSql(schema, 'r')} FROM json_to_recordset($1::json) AS x(u text, c text)
      WHERE r.user_id = x.u AND r.conversation_id = x.c`,
    result.recountRows,
  );
  if (result.recountConversations.length > 0) {
    await client.query(`UPDATE ${t('rows')} r SET unread = ${unreadCountSql(schema, 'r')} WHERE r.conversation_id = ANY($1::text[])`, [
      result.recountConversations,
    ]);
  }
  if (result.lazyConversations.length > 0) {
    await client.query(`UPDATE ${t('rows')} SET unread = NULL WHERE conversation_id = ANY($1::text[]) AND unread IS NOT NULL`, [
      result.lazyConversations,
    ]);
  }
}

export const sessionsProjection: ProjectionDefinition = {
  name: 'sessions',
  version: 1,
  schema: SESSIONS_SCHEMA,
  createTables,
  apply,
};
