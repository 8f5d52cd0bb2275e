// The inbox rebuild loader (ProjectionDefinition.bulkLoad.loader): the same fold as `apply`, but over
// the whole log with its state (members, fan-out modes, per-user heads) kept in memory from the first
// event to the last, so no page reads anything back from the tables. Each user's inbox rows are kept
// as references to one shared COPY-text tail per event (the part after user id and inbox seq, the same
// for every recipient), and at the end written with COPY **in primary-key order** (users in the
// database's own order of user_id, then inbox_seq): the key built afterwards (bulkLoad.restoreIndexes)
// then sorts already-sorted input, several times cheaper than sorting rows in log order, and a user's
// rows sit together on disk for the sync reads. The COPY is cut into short transactions (see
// COPY_ROWS_PER_TRANSACTION); the state tables are written last, as `apply` leaves them.
import { once } from 'node:events';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { RecordedEvent } from '../../store/eventStore.js';
import type { ApplyContext, BulkLoader } from '../definition.js';
import { factOf, monthOf } from '../fold/eventFacts.js';
import { createMembershipTracker } from '../fold/membershipFold.js';
import { BEGIN_PROJECTION_TRANSACTION, inTransaction } from '../applyBatch.js';
import { insertRows, tableIn } from '../shared/sql.js';

/**
 * A recipient: its COPY-escaped id and its rows so far, as indexes into the loader's tails (a typed
 * array: millions of row references the garbage collector never has to scan). Its inbox seq is `count`.
 */
interface Recipient {
  field: string;
  rows: Int32Array;
  count: number;
}

const push = (r: Recipient, tail: number): void => {
  if (r.count === r.rows.length) {
    const grown = new Int32Array(r.rows.length * 2);
    grown.set(r.rows);
    r.rows = grown;
  }
  r.rows[r.count++] = tail;
};

/** How much COPY text is gathered before it is handed to the socket. */
const FLUSH_CHARS = 1 << 20;

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
/** A text value in COPY's text format. */
const copyText = (text: string): string => (COPY_SPECIAL.test(text) ? text.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : text);

/** Rows per transaction: each holds a transaction id (so holds back log readers) only briefly. */
const COPY_ROWS_PER_TRANSACTION = 250_000;

/** A COPY FROM STDIN open in its own transaction on a pooled connection. */
interface CopyInTransaction {
  /** Writes COPY text, waiting while the socket is full. */
  write(text: string): Promise<void>;
  /** Ends the COPY and commits. */
  commit(): Promise<void>;
  /** Cancels the COPY (if still open) and rolls back; never throws. */
  abort(): Promise<void>;
}

async function beginCopy(pool: pg.Pool, sql: string): Promise<CopyInTransaction> {
  const client = await pool.connect();
  let stream: ReturnType<typeof copyFrom> | undefined;
  let failure: unknown;
  let released = false;
  const release = (error?: Error) => {
    if (!released) client.release(error);
    released = true;
  };
  /** Resolves on `event` or on an error (then recorded in `failure`), leaving no listener behind. */
  const settled = (s: ReturnType<typeof copyFrom>, event: 'drain' | 'finish'): Promise<void> =>
    new Promise((resolve) => {
      const done = () => {
        s.off(event, done);
        s.off('error', done);
        resolve();
      };
      s.on(event, done);
      s.on('error', done);
    });
  try {
    await client.query(BEGIN_PROJECTION_TRANSACTION); // marked: log readers need not wait for a long load
    stream = client.query(copyFrom(sql));
    stream.on('error', (error) => (failure ??= error));
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    release();
    throw error;
  }
  const s = stream;
  return {
    async write(text) {
      if (failure) throw failure;
      if (!s.write(text)) await settled(s, 'drain');
      if (failure) throw failure;
    },
    async commit() {
      const done = settled(s, 'finish');
      s.end();
      await done;
      if (failure) throw failure;
      await client.query('COMMIT');
      release();
    },
    async abort() {
      if (released) return;
      if (!s.writableFinished && !s.destroyed) {
        const closed = once(s, 'close').catch(() => undefined);
        s.destroy(new Error('inbox rebuild load abandoned'));
        await closed;
      }
      const rolledBack = await client.query('ROLLBACK').then(() => true, () => false);
      release(rolledBack ? undefined : new Error('connection left in an unknown state'));
    },
  };
}

const jsonReplacer = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);

/** How the loader cuts its output; the defaults suit millions of rows (tests pass small ones). */
export interface InboxLoaderLimits {
  flushChars: number;
  rowsPerTransaction: number;
}

export function createInboxLoader(
  pool: pg.Pool,
  ctx: ApplyContext,
  limits: InboxLoaderLimits = { flushChars: FLUSH_CHARS, rowsPerTransaction: COPY_ROWS_PER_TRANSACTION },
): BulkLoader {
  const { schema, fanoutLimit } = ctx;
  const tracker = createMembershipTracker([], fanoutLimit);
  const lastSeqs = new Map<string, number>();
  const recipients = new Map<string, Recipient>();
  /** Current members of each write-mode conversation, as recipients; dropped when membership changes. */
  const memberLists = new Map<string, Recipient[]>();
  const conversationFields = new Map<string, string>();
  /** The COPY text after user id and inbox seq, one per event that adds rows (shared by its recipients). */
  const tails: string[] = [];

  const recipient = (userId: string): Recipient => {
    let r = recipients.get(userId);
    if (!r) {
      r = { field: copyText(userId), rows: new Int32Array(16), count: 0 };
      recipients.set(userId, r);
    }
    return r;
  };
  const conversationField = (conversationId: string): string => {
    let field = conversationFields.get(conversationId);
    if (field === undefined) {
      field = copyText(conversationId);
      conversationFields.set(conversationId, field);
    }
    return field;
  };

  /**
   * Every inbox row in (user_id, inbox_seq) order, the users in the database's own order of user_id:
   * one COPY per transaction of up to COPY_ROWS_PER_TRANSACTION rows, each stretch appended after the
   * last, so the table stays in key order.
   */
  async function copyEntries(): Promise<void> {
    const { rows: ordered } = await pool.query<{ u: string }>('SELECT u FROM unnest($1::text[]) AS u ORDER BY u', [[...recipients.keys()]]);
    const sql = `COPY ${tableIn(schema, 'entries')} (user_id, inbox_seq, kind, conversation_id, seq, month, global_position, data, at) FROM STDIN`;
    let copy: CopyInTransaction | undefined;
    let text = '';
    let rowsInCopy = 0;
    try {
      for (const { u } of ordered) {
        const r = recipients.get(u)!;
        const { field, rows, count } = r;
        for (let i = 0; i < count; i++) {
          text += field + '\t' + (i + 1) + tails[rows[i]!];
          rowsInCopy += 1;
          if (text.length >= limits.flushChars) {
            copy ??= await beginCopy(pool, sql);
            await copy.write(text);
            text = '';
            if (rowsInCopy >= limits.rowsPerTransaction) {
              await copy.commit();
              copy = undefined;
              rowsInCopy = 0;
            }
          }
        }
        r.rows = new Int32Array(0); // written: no need to hold it any more
      }
      if (text.length > 0) {
        copy ??= await beginCopy(pool, sql);
        await copy.write(text);
      }
      await copy?.commit();
      copy = undefined;
    } finally {
      await copy?.abort();
    }
    tails.length = 0;
  }

  return {
    async add(events: readonly RecordedEvent[]) {
      for (const event of events) {
        const eventFact = factOf(event);
        if (eventFact.stream === 'other') continue;
        if (eventFact.stream === 'user') {
          const fact = eventFact.fact;
          const { conversationId: _c, ...data } = fact.data;
          const kind = fact.type === 'ConversationRead' ? 'read' : 'settings';
          let json: string;
          try {
            json = JSON.stringify(data);
          } catch {
            json = JSON.stringify(data, jsonReplacer);
          }
          tails.push(`\t${kind}\t${conversationField(fact.conversationId)}\t\\N\t\\N\t${fact.position}\t${copyText(json)}\t${copyText(fact.at)}\n`);
          push(recipient(fact.userId), tails.length - 1);
          continue;
        }
        const fact = eventFact.fact;
        const step = tracker.apply(fact);
        lastSeqs.set(fact.conversationId, fact.seq);
        if (step.joined.length > 0 || step.departed.length > 0) memberLists.delete(fact.conversationId);
        if (step.mode === 'read') continue;
        let members = memberLists.get(fact.conversationId);
        if (!members) {
          members = tracker.members(fact.conversationId).map(recipient);
          memberLists.set(fact.conversationId, members);
        }
        // Everything after the user id and inbox seq is the same for every recipient of the item.
        const tail = tails.push(`\titem\t${conversationField(fact.conversationId)}\t${fact.seq}\t${monthOf(fact.at)}\t${fact.position}\t\\N\t\\N\n`) - 1;
        for (let i = 0; i < members.length; i++) push(members[i]!, tail);
        // The departing user is no longer a member but receives the item that tells them so.
        for (const userId of step.departed) push(recipient(userId), tail);
      }
    },

    async finish() {
      await copyEntries();
      const heads: { user_id: string; inbox_seq: number }[] = [];
      for (const [userId, r] of recipients) if (r.count > 0) heads.push({ user_id: userId, inbox_seq: r.count });
      await inTransaction(pool, async (client) => {
        await insertRows(client, tableIn(schema, 'heads'), [['user_id', 'text'], ['inbox_seq', 'bigint']], heads);
      await insertRows(
        client,
        tableIn(schema, 'conversations'),
        [['conversation_id', 'text'], ['member_count', 'integer'], ['fanout_mode', 'text'], ['last_seq', 'integer']],
        tracker.touched().map((c) => ({ conversation_id: c.conversationId, member_count: c.memberCount, fanout_mode: c.mode, last_seq: lastSeqs.get(c.conversationId) })),
      );
      await insertRows(
        client,
        tableIn(schema, 'member_periods'),
        [['conversation_id', 'text'], ['user_id', 'text'], ['from_seq', 'integer'], ['to_seq', 'integer']],
        tracker.periodRows().map((p) => ({ conversation_id: p.conversationId, user_id: p.userId, from_seq: p.fromSeq, to_seq: p.toSeq })),
      );
      await insertRows(
        client,
        tableIn(schema, 'fanout_modes'),
        [['conversation_id', 'text'], ['from_seq', 'integer'], ['mode', 'text']],
        tracker.modeRows().map((m) => ({ conversation_id: m.conversationId, from_seq: m.fromSeq, mode: m.mode })),
      );
        return true;
      });
    },
  };
}
