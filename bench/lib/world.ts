// Sets up what a scenario needs through the public API, as an app backend would: users (tokens),
// direct conversations and groups of any size (created with the first 1,000 members, then added 1,000
// at a time, the API's bound per request).
import { sleep } from '../load/clock.js';
import { expectStatus, type JsonClient } from './http.js';
import type { Target } from './target.js';

export interface User {
  userId: string;
  token: string;
}

const MEMBERS_PER_REQUEST = 1_000;

/** Runs `work` over `items`, `concurrency` at a time, in order of completion. */
export async function inParallel<T, R>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await work(items[i]!, i);
      }
    }),
  );
  return results;
}

export async function makeUsers(target: Target, prefix: string, count: number): Promise<User[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  return inParallel(ids, 32, async (userId) => ({ userId, token: await target.mintToken(userId) }));
}

export async function openDirect(client: JsonClient, a: User, b: User): Promise<string> {
  const body = await expectStatus(client.request<{ conversationId: string }>('POST', '/v1/conversations/direct', a.token, { peerId: b.userId }), [200, 201], 'open direct');
  return body.conversationId;
}

export async function createGroup(client: JsonClient, owner: User, members: readonly User[], name = 'bench group'): Promise<string> {
  const others = members.filter((m) => m.userId !== owner.userId).map((m) => m.userId);
  const first = others.slice(0, MEMBERS_PER_REQUEST);
  const { conversationId } = await expectStatus(client.request<{ conversationId: string }>('POST', '/v1/groups', owner.token, { name, memberIds: first }), [201], 'create group');
  for (let i = MEMBERS_PER_REQUEST; i < others.length; i += MEMBERS_PER_REQUEST) {
    await expectStatus(client.request('POST', `/v1/groups/${conversationId}/members`, owner.token, { userIds: others.slice(i, i + MEMBERS_PER_REQUEST) }), [200, 201], 'add members');
  }
  return conversationId;
}

/** Waits until the read side knows `user` is a member (reads are projections, a moment behind). */
export async function waitMember(client: JsonClient, user: User, conversationId: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const res = await client.request('GET', `/v1/conversations/${conversationId}/messages?limit=1`, user.token);
    if (res.status === 200) return;
    // Slow enough to stay far under the per-user rate limit (1,200 a minute) however long it takes.
    await sleep(250);
  }
  throw new Error(`${user.userId} not a member of ${conversationId} on the read side within ${timeoutMs} ms`);
}
