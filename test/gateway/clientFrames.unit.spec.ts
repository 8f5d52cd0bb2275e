import { describe, expect, it } from 'vitest';
import { parseClientFrame } from '../../src/gateway/clientFrames.js';

const CONVERSATION = '0190a5c4-1f2e-7abc-8def-0123456789ab';
const text = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

describe('parseClientFrame', () => {
  it('accepts each known op with its fields', () => {
    expect(parseClientFrame(text({ op: 'ping', id: 7 }), false)).toEqual({ ok: true, op: { op: 'ping', id: 7 } });
    expect(parseClientFrame(text({ op: 'sync', since: 'abc', limit: 10 }), false)).toMatchObject({ ok: true, op: { op: 'sync', since: 'abc', limit: 10 } });
    const send = { op: 'send', id: 'r1', conversationId: CONVERSATION, clientMsgId: 'm1', kind: 'text', body: { text: 'hi' } };
    expect(parseClientFrame(text(send), false)).toEqual({ ok: true, op: send });
  });

  it('answers bad_frame for binary frames, invalid JSON and non-objects', () => {
    expect(parseClientFrame(text({ op: 'ping' }), true)).toMatchObject({ ok: false, code: 'bad_frame', id: null });
    expect(parseClientFrame(text('{nope'), false)).toMatchObject({ ok: false, code: 'bad_frame' });
    expect(parseClientFrame(text('[1,2]'), false)).toMatchObject({ ok: false, code: 'bad_frame' });
    expect(parseClientFrame(text('null'), false)).toMatchObject({ ok: false, code: 'bad_frame' });
  });

  it('answers unknown_op with the request id when one was given', () => {
    expect(parseClientFrame(text({ op: 'subscribe', id: 'x' }), false)).toMatchObject({ ok: false, code: 'unknown_op', id: 'x' });
    expect(parseClientFrame(text({ id: 3 }), false)).toMatchObject({ ok: false, code: 'unknown_op', id: 3 });
  });

  it('answers validation_failed for a known op with bad or extra fields', () => {
    const cases = [
      { op: 'send', id: 1, conversationId: 'c', kind: 'text', body: {} },
      { op: 'send', id: 1, conversationId: 7, clientMsgId: 'm', kind: 'text', body: {} },
      { op: 'send', id: 1, conversationId: 'c', clientMsgId: 'm', kind: 3, body: {} },
      { op: 'sync', id: 1, limit: 0 },
      { op: 'sync', id: 1, limit: 501 },
      { op: 'ping', id: 1, extra: true },
    ];
    for (const frame of cases) expect(parseClientFrame(text(frame), false)).toMatchObject({ ok: false, code: 'validation_failed', id: 1 });
  });

  it('checks a send with the REST body schema’s constraints (the domain’s validators)', () => {
    const valid = { op: 'send', id: 1, conversationId: CONVERSATION, clientMsgId: 'm-1', kind: 'image', body: { url: 'u' } };
    expect(parseClientFrame(text(valid), false)).toMatchObject({ ok: true });
    const invalid = [
      { conversationId: 'not-a-uuid' },
      { conversationId: CONVERSATION.toUpperCase() },
      { clientMsgId: 'has space' },
      { clientMsgId: 'x'.repeat(65) },
      { kind: 'video' },
      { body: ['not', 'an', 'object'] },
      { body: 'hi' },
    ];
    for (const change of invalid) {
      expect(parseClientFrame(text({ ...valid, ...change }), false)).toMatchObject({ ok: false, code: 'validation_failed', id: 1 });
    }
  });

  it('accepts a fragmented message delivered as several buffers', () => {
    const parts = [Buffer.from('{"op":'), Buffer.from('"ping"}')];
    expect(parseClientFrame(parts, false)).toEqual({ ok: true, op: { op: 'ping' } });
  });
});
