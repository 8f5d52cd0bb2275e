// The conversations a fault test sends into, made through the API before any fault is armed (creating a
// group is not idempotent, so it is not retried blindly): one group whose members all send at once (the
// per-conversation batching path) and direct conversations with one sender each.
import { devToken, requestUntilAnswered, runSender, type Attempt, type ClientTarget, type SenderStats } from './retryingClient.js';

export interface Sender {
  userId: string;
  token: string;
  conversationId: string;
}

export interface World {
  senders: Sender[];
  tokenOf: Map<string, string>;
  /** A token of a member of each conversation (to read its history). */
  readerOf: Map<string, string>;
}

export async function createWorld(target: ClientTarget, options: { groupSenders: number; directPairs: number; tag: string }): Promise<World> {
  const tokenOf = new Map<string, string>();
  const token = async (userId: string) => {
    if (!tokenOf.has(userId)) tokenOf.set(userId, await devToken(target, userId));
    return tokenOf.get(userId)!;
  };
  const senders: Sender[] = [];
  const readerOf = new Map<string, string>();
  const members = Array.from({ length: options.groupSenders }, (_, i) => `${options.tag}-g${i}`);
  const owner = members[0]!;
  const group = await requestUntilAnswered(target, 'POST', '/v1/groups', { token: await token(owner), body: { name: `${options.tag} group`, memberIds: members.slice(1) } });
  if (group.status !== 201) throw new Error(`group not created: ${group.status} ${JSON.stringify(group.body)}`);
  readerOf.set(group.body.conversationId, await token(owner));
  for (const m of members) senders.push({ userId: m, token: await token(m), conversationId: group.body.conversationId });
  for (let p = 0; p < options.directPairs; p++) {
    const [a, b] = [`${options.tag}-d${p}a`, `${options.tag}-d${p}b`];
    const direct = await requestUntilAnswered(target, 'POST', '/v1/conversations/direct', { token: await token(a), body: { peerId: b } });
    if (direct.status >= 300) throw new Error(`direct not opened: ${direct.status}`);
    readerOf.set(direct.body.conversationId, await token(a));
    senders.push({ userId: a, token: await token(a), conversationId: direct.body.conversationId });
  }
  return { senders, tokenOf, readerOf };
}

/** Every sender of the world sending until `shouldStop()`; one attempt log for all. */
export function startLoad(target: ClientTarget, world: World, shouldStop: () => boolean, log: Attempt[], pauseMs = 0): Promise<SenderStats[]> {
  return Promise.all(world.senders.map((s) => runSender({ target, token: s.token, conversationId: s.conversationId, prefix: s.userId, shouldStop, log, pauseMs })));
}
