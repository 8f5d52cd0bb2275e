// The messages of a conversation as they stood after a prefix of its stream: bodies with the edits
// recorded so far applied, recalls flagged. The conversation decider's state keeps only recent
// messages and no bodies, so the audit view folds them itself. A recalled message keeps its body:
// the audience of this view is an auditor, and the log holds the body anyway.
import type { ConversationEvent, MessageBody, MessageKind } from '../../domain/events.js';

export interface MessageAsItStood {
  seq: number;
  messageId: string;
  senderId: string;
  kind: MessageKind;
  body: MessageBody;
  sentAt: string;
  editedAt?: string;
  recalled: boolean;
  recalledAt?: string;
}

/** Accumulates messages event by event; `list()` gives them by seq. */
export function createMessageFold() {
  const bySeq = new Map<number, MessageAsItStood>();
  return {
    apply(event: ConversationEvent, seq: number): void {
      switch (event.type) {
        case 'MessageSent': {
          const { messageId, senderId, kind, body, sentAt } = event.data;
          bySeq.set(seq, { seq, messageId, senderId, kind, body, sentAt, recalled: false });
          return;
        }
        case 'MessageEdited': {
          const message = bySeq.get(event.data.seq);
          if (message) Object.assign(message, { body: event.data.body, editedAt: event.data.editedAt });
          return;
        }
        case 'MessageRecalled': {
          const message = bySeq.get(event.data.seq);
          if (message) Object.assign(message, { recalled: true, recalledAt: event.data.recalledAt });
          return;
        }
        default:
          return;
      }
    },
    list: (): MessageAsItStood[] => [...bySeq.values()],
  };
}
