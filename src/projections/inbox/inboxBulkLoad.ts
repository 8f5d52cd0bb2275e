// The inbox rebuild loader (ProjectionDefinition.bulkLoad.loader): the same fold as `apply`, but over
// the whole log with its state (members, fan-out modes, per-user heads) kept in memory from the first
// event to the last, so no page reads anything back from the tables. Inbox rows (about a dozen per
// event) are written as COPY text straight into one COPY that stays open for the whole load: PostgreSQL
// ingests one stretch while Node folds the next. The state tables are written once at the end, as
// `apply` would have left them; the entries primary key is built after that (bulkLoad.restoreIndexes).
import { once } from 'node:events';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { RecordedEvent } from '../../store/eventStore.js';
import type { ApplyContext, BulkLoader } from '../definition.js';
import { factOf, monthOf } from '../fold/eventFacts.js';
import { createMembershipTracker } from '../fold/membershipFold.js';
import { insertRows, tableIn } from '../shared/sql.js';

/** A recipient: its COPY-escaped id and its last inbox seq so far. */
interface Recipient {
  field: string;
  seq: number;
}

/** How much COPY text is gathered before it is handed to the socket. */
const FLUSH_CHARS = 1 << 20;

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
/** A text value in COPY's text format. */
const copyText = (text: string): string => (COPY_SPECIAL.test(text) ? text.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : text);

const jsonReplacer = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? value.toString() : value);

export function createInboxLoader(client: pg.ClientBase, ctx: ApplyContext): BulkLoader {
  const { schema, fanoutLimit } = ctx;
  const tracker = createMembershipTracker([], fanoutLimit);
  const lastSeqs = new Map<string, number>();
  const recipients = new Map<string, Recipient>();
  /** Current members of each write-mode conversation, as recipients; dropped when membership changes. */
  const memberLists = new Map<string, Recipient[]>();
  const conversationFields = new Map<string, string>();

  const copy = client.query(
    copyFrom(
      `COPY ${tableIn(schema, 'entries')} (user_id, inbox_seq, kind, conversation_id, seq, month, global_position, data, at) FROM STDIN`,
    ),
  );
  let failure: unknown;
  copy.on('error', (error) => (failure ??= error));
  let text = '';

  const recipient = (userId: string): Recipient => {
    let r = recipients.get(userId);
    if (!r) {
      r = { field: copyText(userId), seq: 0 };
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

  /** Resolves on `event` or on an error (then recorded in `failure`), leaving no listener behind. */
  const settled = (event: 'drain' | 'finish'): Promise<void> =>
    new Promise((resolve) => {
      const done = () => {
        copy.off(event, done);
        copy.off('error', done);
        resolve();
      };
      copy.on(event, done);
      copy.on('error', done);
    });

  async function flush(): Promise<void> {
    if (failure) throw failure;
    if (text.length === 0) return;
    const chunk = text;
    text = '';
    if (!copy.write(chunk)) await settled('drain');
    if (failure) throw failure;
  }

  return {
    async add(events: readonly RecordedEvent[]) {
      for (const event of events) {
        const eventFact = factOf(event);
        if (eventFact.stream === 'other') continue;
        if (eventFact.stream === 'user') {
          const fact = eventFact.fact;
          const { conversationId: _c, ...data } = fact.data;
          const r = recipient(fact.userId);
          r.seq += 1;
          const kind = fact.type === 'ConversationRead' ? 'read' : 'settings';
          let json: string;
          try {
            json = JSON.stringify(data);
          } catch {
            json = JSON.stringify(data, jsonReplacer);
          }
          text += `${r.field}\t${r.seq}\t${kind}\t${conversationField(fact.conversationId)}\t\\N\t\\N\t${fact.position}\t${copyText(json)}\t${copyText(fact.at)}\n`;
        } else {
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
          const rest = `\titem\t${conversationField(fact.conversationId)}\t${fact.seq}\t${monthOf(fact.at)}\t${fact.position}\t\\N\t\\N\n`;
          for (let i = 0; i < members.length; i++) {
            const r = members[i]!;
            r.seq += 1;
            text += r.field + '\t' + r.seq + rest;
          }
          // The departing user is no longer a member but receives the item that tells them so.
          for (const userId of step.departed) {
            const r = recipient(userId);
            r.seq += 1;
            text += r.field + '\t' + r.seq + rest;
          }
        }
        if (text.length >= FLUSH_CHARS) await flush();
      }
      await flush();
    },

    async finish() {
      await flush();
      const done = settled('finish');
      copy.end();
      await done;
      if (failure) throw failure;
      const heads: { user_id: string; inbox_seq: number }[] = [];
      for (const [userId, r] of recipients) if (r.seq > 0) heads.push({ user_id: userId, inbox_seq: r.seq });
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
    },

    async abort(error: unknown) {
      if (copy.writableFinished || copy.destroyed) return;
      const closed = once(copy, 'close').catch(() => undefined);
      copy.destroy(error instanceof Error ? error : new Error(String(error)));
      await closed;
    },
  };
}
