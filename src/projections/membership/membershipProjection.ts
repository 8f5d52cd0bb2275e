// The membership projection: each conversation's kind, name, state and current members with their
// roles, indexed both ways (members of a conversation, conversations of a user). Authorization and
// the hint feed read it.
import type pg from 'pg';
import type { MemberRole } from '../../domain/events.js';
import type { ProjectionDefinition } from '../definition.js';
import { batchFactsOf, distinct } from '../fold/batchFacts.js';
import type { ConversationFact } from '../fold/eventFacts.js';
import { membershipEffectOf } from '../fold/membershipFold.js';
import { insertRows, tableIn, withRows, type RecordColumn } from '../shared/sql.js';
import type { ConversationKind } from '../types.js';

export const MEMBERSHIP_SCHEMA = 'proj_membership';

interface ConversationRow {
  conversation_id: string;
  kind: ConversationKind;
  name: string | null;
  dissolved: boolean;
  last_seq: number;
}

interface MemberRow {
  role: MemberRole;
  joined_seq: number;
}

async function createTables(client: pg.ClientBase, schema: string): Promise<void> {
  await client.query(`
    CREATE TABLE ${tableIn(schema, 'conversations')} (
      conversation_id text PRIMARY KEY,
      kind text NOT NULL,
      name text,
      dissolved boolean NOT NULL DEFAULT false,
      last_seq integer NOT NULL
    );
    CREATE TABLE ${tableIn(schema, 'members')} (
      conversation_id text NOT NULL,
      user_id text NOT NULL,
      role text NOT NULL,
      joined_seq integer NOT NULL,
      PRIMARY KEY (conversation_id, user_id)
    );
    CREATE INDEX members_user_idx ON ${tableIn(schema, 'members')} (user_id, conversation_id);`);
}

const memberKey = (conversationId: string, userId: string) => `${conversationId}\u0000${userId}`;

/** The (conversation, user) pairs whose member rows a batch reads or writes. */
function memberPairsOf(facts: readonly ConversationFact[]): { c: string; u: string }[] {
  const pairs = new Map<string, { c: string; u: string }>();
  for (const fact of facts) {
    const effect = membershipEffectOf(fact);
    const users = [...effect.joins, ...effect.departs];
    if (fact.type === 'MemberRoleChanged' && typeof fact.data.userId === 'string') users.push(fact.data.userId);
    for (const u of users) pairs.set(memberKey(fact.conversationId, u), { c: fact.conversationId, u });
  }
  return [...pairs.values()];
}

const MEMBER_COLUMNS: readonly RecordColumn[] = [
  ['conversation_id', 'text'],
  ['user_id', 'text'],
  ['role', 'text'],
  ['joined_seq', 'integer'],
];
const CONVERSATION_COLUMNS: readonly RecordColumn[] = [
  ['conversation_id', 'text'],
  ['kind', 'text'],
  ['name', 'text'],
  ['dissolved', 'boolean'],
  ['last_seq', 'integer'],
];

async function apply(client: pg.ClientBase, events: Parameters<ProjectionDefinition['apply']>[1], ctx: { schema: string }): Promise<void> {
  const facts = batchFactsOf(events).conversations;
  if (facts.length === 0) return;
  const { schema } = ctx;
  const conversationIds = distinct(facts.map((f) => f.conversationId));
  const pairs = memberPairsOf(facts);

  const conversations = new Map<string, ConversationRow>();
  const found = await client.query<ConversationRow>(
    `SELECT conversation_id, kind, name, dissolved, last_seq FROM ${tableIn(schema, 'conversations')} WHERE conversation_id = ANY($1::text[])`,
    [conversationIds],
  );
  for (const row of found.rows) conversations.set(row.conversation_id, row);

  /** Final member state per pair: a row, or null when the pair ends the batch as a non-member. */
  const members = new Map<string, MemberRow | null>();
  if (pairs.length > 0) {
    const loaded = await client.query<{ conversation_id: string; user_id: string } & MemberRow>(
      `SELECT m.conversation_id, m.user_id, m.role, m.joined_seq FROM ${tableIn(schema, 'members')} m
         JOIN json_to_recordset($1::json) AS x(c text, u text) ON m.conversation_id = x.c AND m.user_id = x.u`,
      [JSON.stringify(pairs)],
    );
    for (const row of loaded.rows) members.set(memberKey(row.conversation_id, row.user_id), { role: row.role, joined_seq: row.joined_seq });
  }
  const changed = new Set<string>();

  for (const fact of facts) {
    const conversation = conversations.get(fact.conversationId) ?? {
      conversation_id: fact.conversationId,
      kind: 'group',
      name: null,
      dissolved: false,
      last_seq: 0,
    };
    conversations.set(fact.conversationId, conversation);
    conversation.last_seq = fact.seq;
    const setMember = (userId: string, row: MemberRow | null) => {
      members.set(memberKey(fact.conversationId, userId), row);
      changed.add(memberKey(fact.conversationId, userId));
    };
    const effect = membershipEffectOf(fact);
    for (const userId of effect.joins) {
      if (!members.get(memberKey(fact.conversationId, userId))) setMember(userId, { role: 'member', joined_seq: fact.seq });
    }
    for (const userId of effect.departs) setMember(userId, null);
    switch (fact.type) {
      case 'DirectConversationOpened':
        conversation.kind = 'direct';
        break;
      case 'GroupCreated':
        conversation.kind = 'group';
        conversation.name = String(fact.data.name ?? '');
        if (typeof fact.data.ownerId === 'string') setMember(fact.data.ownerId, { role: 'owner', joined_seq: fact.seq });
        break;
      case 'GroupRenamed':
        conversation.name = String(fact.data.name ?? conversation.name ?? '');
        break;
      case 'GroupDissolved':
        conversation.dissolved = true;
        break;
      case 'MemberRoleChanged': {
        const userId = String(fact.data.userId);
        const current = members.get(memberKey(fact.conversationId, userId));
        if (current) setMember(userId, { ...current, role: fact.data.role as MemberRole });
        break;
      }
      default:
        break;
    }
  }

  await insertRows(
    client,
    tableIn(schema, 'conversations'),
    CONVERSATION_COLUMNS,
    [...conversations.values()],
    `ON CONFLICT (conversation_id) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name,
       dissolved = EXCLUDED.dissolved, last_seq = EXCLUDED.last_seq`,
  );
  const upserts: object[] = [];
  const deletes: { c: string; u: string }[] = [];
  for (const key of changed) {
    const [c, u] = key.split('\u0000') as [string, string];
    const row = members.get(key);
    if (row) upserts.push({ conversation_id: c, user_id: u, ...row });
    else deletes.push({ c, u });
  }
  await insertRows(
    client,
    tableIn(schema, 'members'),
    MEMBER_COLUMNS,
    upserts,
    'ON CONFLICT (conversation_id, user_id) DO UPDATE SET role = EXCLUDED.role, joined_seq = EXCLUDED.joined_seq',
  );
  await withRows(
    client,
    `DELETE FROM ${tableIn(schema, 'members')} m USING json_to_recordset($1::json) AS x(c text, u text)
      WHERE m.conversation_id = x.c AND m.user_id = x.u`,
    deletes,
  );
}

export const membershipProjection: ProjectionDefinition = {
  name: 'membership',
  version: 1,
  schema: MEMBERSHIP_SCHEMA,
  createTables,
  apply,
};
