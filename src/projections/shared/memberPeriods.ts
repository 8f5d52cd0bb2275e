// The membership-period table that the inbox and sessions projections each keep in their own schema
// (a projection never reads another's tables), with the batch loader and writer over it. The fold
// itself is fold/membershipFold.ts.
import type pg from 'pg';
import {
  needsAllMembers,
  type FanoutMode,
  type MembershipNeeds,
  type PeriodRow,
  type TrackedConversation,
} from '../fold/membershipFold.js';
import { insertRows, tableIn, type Queryable, type RecordColumn } from './sql.js';

export function memberPeriodsDdl(schema: string): string {
  const table = tableIn(schema, 'member_periods');
  return `
    CREATE TABLE IF NOT EXISTS ${table} (
      conversation_id text NOT NULL,
      user_id text NOT NULL,
      from_seq integer NOT NULL,
      to_seq integer,
      PRIMARY KEY (conversation_id, user_id, from_seq)
    );
    CREATE INDEX IF NOT EXISTS member_periods_user_idx ON ${table} (user_id, conversation_id);`;
}

/** The membership part of a projection's own conversation state row. */
export interface FanoutState {
  conversationId: string;
  memberCount: number;
  mode: FanoutMode | null;
}

/**
 * Loads the open periods a batch needs: every member of the conversations that fan out in write mode
 * (or may shrink into it), only the users its membership events name for the others.
 */
export async function loadTrackedConversations(
  client: Queryable,
  schema: string,
  states: readonly FanoutState[],
  needs: MembershipNeeds,
  fanoutLimit: number,
): Promise<TrackedConversation[]> {
  const table = tableIn(schema, 'member_periods');
  const tracked = new Map<string, TrackedConversation>();
  const whole: string[] = [];
  const pairs: { c: string; u: string }[] = [];
  for (const s of states) {
    const complete = needsAllMembers(s, needs.departures.get(s.conversationId) ?? 0, fanoutLimit);
    tracked.set(s.conversationId, { ...s, open: new Map(), complete });
    if (complete) whole.push(s.conversationId);
    else for (const u of needs.users.get(s.conversationId) ?? []) pairs.push({ c: s.conversationId, u });
  }
  const rows: { conversation_id: string; user_id: string; from_seq: number }[] = [];
  if (whole.length > 0) {
    const found = await client.query(
      `SELECT conversation_id, user_id, from_seq FROM ${table} WHERE conversation_id = ANY($1::text[]) AND to_seq IS NULL`,
      [whole],
    );
    rows.push(...found.rows);
  }
  if (pairs.length > 0) {
    const found = await client.query(
      `SELECT p.conversation_id, p.user_id, p.from_seq FROM ${table} p
         JOIN json_to_recordset($1::json) AS x(c text, u text) ON p.conversation_id = x.c AND p.user_id = x.u
        WHERE p.to_seq IS NULL`,
      [JSON.stringify(pairs)],
    );
    rows.push(...found.rows);
  }
  for (const r of rows) tracked.get(r.conversation_id)?.open.set(r.user_id, r.from_seq);
  return [...tracked.values()];
}

const PERIOD_COLUMNS: readonly RecordColumn[] = [
  ['conversation_id', 'text'],
  ['user_id', 'text'],
  ['from_seq', 'integer'],
  ['to_seq', 'integer'],
];

export async function writePeriodRows(client: pg.ClientBase, schema: string, periods: readonly PeriodRow[]): Promise<void> {
  const rows = periods.map((p) => ({ conversation_id: p.conversationId, user_id: p.userId, from_seq: p.fromSeq, to_seq: p.toSeq }));
  await insertRows(
    client,
    tableIn(schema, 'member_periods'),
    PERIOD_COLUMNS,
    rows,
    'ON CONFLICT (conversation_id, user_id, from_seq) DO UPDATE SET to_seq = EXCLUDED.to_seq',
  );
}
