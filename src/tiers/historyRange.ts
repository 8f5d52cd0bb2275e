// Pure: which seqs a history page covers. seq is gapless per conversation (stream position + 1), so
// once the conversation's last seq is known the page is an exact interval, and any tier's answer can
// be checked for completeness seq by seq.

export interface HistoryQuery {
  /** Items with seq below this (the newest `limit` of them). */
  before?: number;
  /** Items with seq above this (the oldest `limit` of them). */
  after?: number;
  limit: number;
}

/** [from, to] inclusive, or null for an empty page. */
export type SeqRange = { from: number; to: number } | null;

/** The seqs of the page `query` asks for, in a conversation whose last seq is `head`. */
export function pageRange(query: HistoryQuery, head: number): SeqRange {
  const { before, after, limit } = query;
  let from: number;
  let to: number;
  if (after !== undefined) {
    from = after + 1;
    to = Math.min(head, after + limit, before === undefined ? Infinity : before - 1);
  } else {
    to = Math.min(head, before === undefined ? Infinity : before - 1);
    from = Math.max(1, to - limit + 1);
  }
  return from <= to ? { from, to } : null;
}

/** The seqs of [from, to] not in `have`, as ascending runs [from, to]. */
export function missingRuns(from: number, to: number, have: ReadonlySet<number>): Array<{ from: number; to: number }> {
  const runs: Array<{ from: number; to: number }> = [];
  for (let seq = from; seq <= to; seq++) {
    if (have.has(seq)) continue;
    const last = runs.at(-1);
    if (last && last.to === seq - 1) last.to = seq;
    else runs.push({ from: seq, to: seq });
  }
  return runs;
}
