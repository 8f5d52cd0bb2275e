// The readable form of `missive conversation --as-of ... --format table`.
import type { MessageBody } from '../../domain/events.js';
import { renderTable } from '../textTable.js';
import type { ConversationAsOf } from './conversationAsOf.js';
import type { MessageAsItStood } from './messagesAsTheyStood.js';

const BODY_WIDTH = 60;

export function renderConversationTable(view: ConversationAsOf): string {
  const moment = 'position' in view.asOf ? `position ${view.asOf.position}` : view.asOf.time;
  const title = view.title === null ? view.kind : `${view.kind} "${view.title}"`;
  const header = [
    `Conversation ${view.conversationId} (${title}) as of ${moment}`,
    `last event: seq ${view.lastEvent.seq}, position ${view.lastEvent.globalPosition}, recorded ${view.lastEvent.recordedAt}${view.dissolved ? ' (dissolved)' : ''}`,
  ];
  const members = renderTable(
    ['MEMBER', 'ROLE', 'READ UP TO SEQ'],
    view.members.map((m) => [m.userId, m.role, String(m.lastReadSeq)]),
  );
  const messages = renderTable(
    ['SEQ', 'SENT AT', 'SENDER', 'KIND', 'BODY', 'STATE'],
    view.messages.map((m) => [String(m.seq), m.sentAt, m.senderId, m.kind, bodyPreview(m.body), stateOf(m)]),
  );
  return [...header, '', `Members (${view.members.length})`, members, '', `Messages (${view.messages.length})`, messages].join('\n');
}

function bodyPreview(body: MessageBody): string {
  const text = typeof body.text === 'string' ? body.text : JSON.stringify(body);
  const oneLine = text.replaceAll(/\s+/g, ' ');
  return oneLine.length > BODY_WIDTH ? `${oneLine.slice(0, BODY_WIDTH - 1)}…` : oneLine;
}

function stateOf(message: MessageAsItStood): string {
  const notes = [message.editedAt && `edited ${message.editedAt}`, message.recalled && `recalled ${message.recalledAt ?? ''}`.trimEnd()];
  return notes.filter(Boolean).join(', ');
}
