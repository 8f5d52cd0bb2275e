import { describe, expect, it } from 'vitest';
import { assignInboxSeqs } from '../../../src/projections/inbox/inboxProjection.js';

describe('inbox sequence numbers', () => {
  it('continue each user\'s numbering from their stored head, consecutively, in batch order', () => {
    const heads = new Map([['ann', 41]]);
    const out = assignInboxSeqs([{ user_id: 'ann' }, { user_id: 'bob' }, { user_id: 'ann' }, { user_id: 'bob' }], heads);
    expect(out.map((e) => `${e.user_id}:${e.inbox_seq}`)).toEqual(['ann:42', 'bob:1', 'ann:43', 'bob:2']);
    expect(heads).toEqual(new Map([['ann', 43], ['bob', 2]]));
  });
});
