import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../src/store/eventStore.js';
import { factOf, itemPatchOf, monthOf, patchItem, previewOf, timelineItemOf, type ConversationFact } from '../../../src/projections/fold/eventFacts.js';
import type { MessageItem } from '../../../src/projections/types.js';

const recorded = (streamId: string, type: string, data: Record<string, unknown>, streamPosition = 0): RecordedEvent => ({
  eventId: 'e',
  type,
  streamId,
  streamPosition,
  globalPosition: 7n,
  recordedAt: new Date('2025-03-01T00:00:00.000Z'),
  data,
  metadata: { actorId: 'actor', schemaVersion: 1 },
});

const conversationFact = (event: RecordedEvent): ConversationFact => {
  const fact = factOf(event);
  if (fact.stream !== 'conversation') throw new Error('not a conversation fact');
  return fact.fact;
};

describe('event facts', () => {
  it('gives every conversation event seq = stream position + 1 and its own time', () => {
    const fact = conversationFact(recorded('conversation-c1', 'GroupRenamed', { name: 'x', renamedBy: 'u', renamedAt: '2025-02-02T00:00:00.000Z' }, 4));
    expect(fact).toMatchObject({ conversationId: 'c1', seq: 5, position: 7n, actorId: 'actor', at: '2025-02-02T00:00:00.000Z' });
  });

  it('falls back to recordedAt when the event time is missing or invalid', () => {
    expect(conversationFact(recorded('conversation-c1', 'GroupDissolved', { dissolvedAt: 'soon' })).at).toBe('2025-03-01T00:00:00.000Z');
  });

  it('ignores unknown streams and types, and user events without a conversation', () => {
    expect(factOf(recorded('other-x', 'MessageSent', {})).stream).toBe('other');
    expect(factOf(recorded('conversation-c', 'Unknown', {})).stream).toBe('other');
    expect(factOf(recorded('user-u', 'ConversationRead', { seq: 1 })).stream).toBe('other');
    expect(factOf(recorded('user-u', 'ConversationRead', { conversationId: 'c', seq: 1 })).stream).toBe('user');
  });

  it('makes a message item for MessageSent and a system item for everything else', () => {
    const sent = conversationFact(
      recorded('conversation-c', 'MessageSent', { messageId: 'm', senderId: 's', clientMsgId: 'k', kind: 'text', body: { text: 'hi' }, sentAt: '2025-01-01T00:00:00.000Z' }, 1),
    );
    expect(timelineItemOf(sent)).toEqual({ messageId: 'm', seq: 2, senderId: 's', kind: 'text', body: { text: 'hi' }, sentAt: '2025-01-01T00:00:00.000Z' });
    const edit = conversationFact(recorded('conversation-c', 'MessageEdited', { messageId: 'm', seq: 2, body: { text: 'yo' }, editedBy: 's', editedAt: '2025-01-01T00:01:00.000Z' }, 2));
    expect(timelineItemOf(edit)).toMatchObject({ seq: 3, kind: 'system', event: 'MessageEdited', actorId: 'actor', data: { seq: 2 } });
  });

  it('applies edits, then a final recall, to a message item', () => {
    const item: MessageItem = { messageId: 'm', seq: 2, senderId: 's', kind: 'text', body: { text: 'hi' }, sentAt: 't' };
    const edit = itemPatchOf(conversationFact(recorded('conversation-c', 'MessageEdited', { seq: 2, body: { text: 'yo' }, editedAt: '2025-01-01T00:01:00.000Z' })))!;
    const recall = itemPatchOf(conversationFact(recorded('conversation-c', 'MessageRecalled', { seq: 2, recalledAt: '2025-01-01T00:02:00.000Z' })))!;
    const edited = patchItem(item, edit.patch);
    expect(edited).toMatchObject({ body: { text: 'yo' }, editedAt: '2025-01-01T00:01:00.000Z' });
    const recalled = patchItem(edited, recall.patch);
    expect(recalled).toMatchObject({ body: {}, recalled: true });
    expect(patchItem(recalled, edit.patch)).toEqual(recalled);
  });

  it('previews text shortened, other kinds without text, recalled ones flagged', () => {
    const long = 'x'.repeat(500);
    expect(previewOf({ messageId: 'm', seq: 1, senderId: 's', kind: 'text', body: { text: long }, sentAt: 't' }).text).toHaveLength(120);
    expect(previewOf({ messageId: 'm', seq: 1, senderId: 's', kind: 'image', body: { url: 'u' }, sentAt: 't' })).toEqual({ messageId: 'm', seq: 1, senderId: 's', kind: 'image' });
    expect(previewOf({ messageId: 'm', seq: 1, senderId: 's', kind: 'text', body: {}, sentAt: 't', recalled: true })).toEqual({
      messageId: 'm',
      seq: 1,
      senderId: 's',
      kind: 'text',
      recalled: true,
    });
  });

  it('computes the UTC month of an item', () => {
    expect(monthOf('2025-12-31T23:59:59.999Z')).toBe('2025-12-01');
    expect(monthOf('2026-01-01T00:30:00.000+01:00')).toBe('2025-12-01');
  });
});
