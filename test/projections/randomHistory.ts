// A seeded random IM history for the projection tests: a few users in direct chats and groups that
// grow and shrink across a small fan-out limit, with sends, edits, recalls, reads from several
// devices (some stale), settings and renames. Only what the domain would accept is generated.
import type { LogWriter } from './support.js';

/** Small deterministic PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Conversation {
  id: string;
  group: boolean;
  members: Set<string>;
  lastSeq: number;
  messages: { seq: number; messageId: string; sender: string; recalled: boolean }[];
}

export interface RandomHistoryOptions {
  seed: number;
  steps: number;
  users: string[];
  newId: () => string;
  /** Called between steps with probability `pauseChance` (e.g. to catch up or sync). */
  onPause?: (step: number) => Promise<void>;
  pauseChance?: number;
  /** Share of read-mark steps among the others (default 0.18); low values keep counters unrecounted. */
  readShare?: number;
}

export async function writeRandomHistory(log: LogWriter, options: RandomHistoryOptions): Promise<void> {
  const random = seededRandom(options.seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const { users } = options;
  const conversations: Conversation[] = [];

  const open = async (group: boolean) => {
    const id = options.newId();
    const [a, b, ...rest] = [...users].sort(() => random() - 0.5);
    if (group) {
      const members = rest.slice(0, Math.floor(random() * 3));
      await log.group(id, a!, [b!, ...members], `g${conversations.length}`);
      conversations.push({ id, group, members: new Set([a!, b!, ...members]), lastSeq: 1, messages: [] });
    } else {
      await log.direct(id, a!, b!);
      conversations.push({ id, group, members: new Set([a!, b!]), lastSeq: 1, messages: [] });
    }
  };
  await open(false);
  await open(true);
  await open(true);

  for (let step = 0; step < options.steps; step++) {
    const c = pick(conversations);
    const members = [...c.members];
    const roll = random();
    if (members.length === 0) continue;
    if (roll < 0.4) {
      const sender = pick(members);
      const { seq, messageId } = await log.send(c.id, sender, `m${step}`);
      c.lastSeq = seq;
      c.messages.push({ seq, messageId, sender, recalled: false });
    } else if (roll < 0.47 && c.messages.length > 0) {
      const m = pick(c.messages);
      if (!m.recalled && c.members.has(m.sender)) c.lastSeq = await log.edit(c.id, m.sender, m, `edit${step}`);
    } else if (roll < 0.54 && c.messages.length > 0) {
      // Often the latest message (recalled right after sending, possibly in the same batch).
      const m = random() < 0.5 ? c.messages.at(-1)! : pick(c.messages);
      if (!m.recalled && c.members.has(m.sender)) {
        c.lastSeq = await log.recall(c.id, m.sender, m);
        m.recalled = true;
      }
    } else if (roll < 0.64 && c.group) {
      const outsiders = users.filter((u) => !c.members.has(u));
      if (outsiders.length > 0) {
        const joining = outsiders.filter(() => random() < 0.5).slice(0, 3);
        if (joining.length === 0) joining.push(pick(outsiders));
        c.lastSeq = await log.add(c.id, pick(members), joining);
        joining.forEach((u) => c.members.add(u));
      }
    } else if (roll < 0.72 && c.group && members.length > 1) {
      const leaving = pick(members);
      c.lastSeq = random() < 0.5 ? await log.leave(c.id, leaving) : await log.remove(c.id, pick(members.filter((u) => u !== leaving)), leaving);
      c.members.delete(leaving);
    } else if (roll < 0.72 + (options.readShare ?? 0.18)) {
      const reader = pick(members);
      // Mostly the head, sometimes an older mark (a stale device). Never beyond the end: the domain clamps.
      const mark = random() < 0.7 ? c.lastSeq : Math.max(0, c.lastSeq - 3);
      await log.read(reader, c.id, mark, pick(['phone', 'laptop']));
    } else if (roll < 0.95) {
      await log.settings(pick(members), c.id, { muted: random() < 0.5 });
    } else if (c.group) {
      c.lastSeq = await log.rename(c.id, pick(members), `name${step}`);
    }
    if (options.onPause && random() < (options.pauseChance ?? 0.1)) await options.onPause(step);
  }
}
