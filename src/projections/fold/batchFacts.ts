// Splits a batch of recorded events into the conversation and user facts a projection folds.
import type { RecordedEvent } from '../../store/eventStore.js';
import { factOf, type ConversationFact, type UserFact } from './eventFacts.js';

export type OrderedFact = { stream: 'conversation'; fact: ConversationFact } | { stream: 'user'; fact: UserFact };

export interface BatchFacts {
  /** Conversation and user facts in global order (other events dropped). */
  ordered: OrderedFact[];
  conversations: ConversationFact[];
  users: UserFact[];
}

export function batchFactsOf(events: readonly RecordedEvent[]): BatchFacts {
  const ordered: OrderedFact[] = [];
  const conversations: ConversationFact[] = [];
  const users: UserFact[] = [];
  for (const event of events) {
    const fact = factOf(event);
    if (fact.stream === 'conversation') {
      ordered.push(fact);
      conversations.push(fact.fact);
    } else if (fact.stream === 'user') {
      ordered.push(fact);
      users.push(fact.fact);
    }
  }
  return { ordered, conversations, users };
}

export const distinct = <T>(values: Iterable<T>): T[] => [...new Set(values)];
