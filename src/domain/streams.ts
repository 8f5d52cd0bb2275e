// Stream naming (DESIGN.md §3): one stream per conversation, one per user.
export const CONVERSATION_STREAM_PREFIX = 'conversation-';
export const USER_STREAM_PREFIX = 'user-';

export const conversationStreamId = (conversationId: string): string => `${CONVERSATION_STREAM_PREFIX}${conversationId}`;
export const userStreamId = (userId: string): string => `${USER_STREAM_PREFIX}${userId}`;

export type ParsedStreamId = { kind: 'conversation'; conversationId: string } | { kind: 'user'; userId: string } | { kind: 'other' };

export function parseStreamId(streamId: string): ParsedStreamId {
  if (streamId.startsWith(CONVERSATION_STREAM_PREFIX)) {
    return { kind: 'conversation', conversationId: streamId.slice(CONVERSATION_STREAM_PREFIX.length) };
  }
  if (streamId.startsWith(USER_STREAM_PREFIX)) return { kind: 'user', userId: streamId.slice(USER_STREAM_PREFIX.length) };
  return { kind: 'other' };
}

/** seq of an item in a conversation = its stream position + 1 (consecutive, gapless). */
export const seqOf = (streamPosition: number): number => streamPosition + 1;
