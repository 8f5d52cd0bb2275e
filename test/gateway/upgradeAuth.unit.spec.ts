import { describe, expect, it } from 'vitest';
import type http from 'node:http';
import { createOriginPolicy, selectProtocol, tokenFromRequest } from '../../src/gateway/upgradeAuth.js';

function request(headers: http.IncomingHttpHeaders): http.IncomingMessage {
  return { headers } as http.IncomingMessage;
}
const url = (query = '') => new URL(`http://h/v1/ws${query}`);

describe('tokenFromRequest', () => {
  it('reads the bearer header first, then the subprotocol, then the query', () => {
    const all = request({ authorization: 'Bearer H', 'sec-websocket-protocol': 'missive.v1, missive.bearer.P' });
    expect(tokenFromRequest(all, url('?access_token=Q'))).toBe('H');
    const protocol = request({ 'sec-websocket-protocol': 'missive.v1, missive.bearer.P' });
    expect(tokenFromRequest(protocol, url('?access_token=Q'))).toBe('P');
    expect(tokenFromRequest(request({}), url('?access_token=Q'))).toBe('Q');
  });

  it('finds nothing in a malformed header, an empty protocol token or no source at all', () => {
    expect(tokenFromRequest(request({ authorization: 'Basic abc' }), url('?access_token=Q'))).toBeNull();
    expect(tokenFromRequest(request({ 'sec-websocket-protocol': 'missive.bearer.' }), url())).toBeNull();
    expect(tokenFromRequest(request({}), url('?access_token='))).toBeNull();
  });
});

describe('selectProtocol', () => {
  it('selects the application protocol and never echoes the token protocol', () => {
    expect(selectProtocol(new Set(['missive.bearer.T', 'missive.v1']))).toBe('missive.v1');
    expect(selectProtocol(new Set(['missive.bearer.T']))).toBe(false);
  });
});

describe('createOriginPolicy', () => {
  it('allows listed origins (normalised), requests without Origin, and refuses others', () => {
    const allowed = createOriginPolicy(['https://app.example.com', 'http://localhost:3000/']);
    expect(allowed('https://APP.example.com')).toBe(true);
    expect(allowed('https://app.example.com:443')).toBe(true);
    expect(allowed('http://localhost:3000')).toBe(true);
    expect(allowed(undefined)).toBe(true);
    expect(allowed('https://evil.example.com')).toBe(false);
    expect(allowed('http://app.example.com')).toBe(false);
    expect(allowed('null')).toBe(false);
  });

  it("allows anything with '*'", () => {
    expect(createOriginPolicy('*')('https://anything.example')).toBe(true);
  });
});
