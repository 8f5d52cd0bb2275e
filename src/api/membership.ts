// Membership privacy for reads: a conversation you do not belong to answers exactly like one that does
// not exist (same status, body and headers), so ids cannot be probed. Writes get the same guarantee
// from the domain, which refuses non-members with the same conversation_not_found.
import type pg from 'pg';
import { isMember } from '../projections/index.js';
import { ApiError } from './errors.js';

export async function requireMember(pool: pg.Pool, conversationId: string, userId: string): Promise<void> {
  if (!(await isMember(pool, conversationId, userId))) throw new ApiError('conversation_not_found');
}
