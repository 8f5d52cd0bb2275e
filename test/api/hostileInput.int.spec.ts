// Hostile input, property-based (fast-check), driven by the OpenAPI document of a real server on
// loopback: for every operation the fuzzer starts from a well-formed request built from the schema
// (each field and parameter gets a valid value from its declared type) and breaks it — a field of the
// wrong type, a missing required field, an unknown field or parameter, an oversized string, a deeply
// nested value, characters PostgreSQL cannot store, a body that is not JSON or not JSON at all, a bad
// path id. The same is done to every WebSocket op. Whatever arrives, the server must never answer 5xx,
// must answer the documented problem+json with a catalogued code, and a refused request must leave the
// event count unchanged (counted in PostgreSQL after every single request).
//
// Bounded: FUZZ_RUNS runs (default 1,000 over HTTP, 750 over WebSocket) and 45 s per property, which
// ever comes first. FUZZ_SEED replays a run. The counts of a run are printed at the end.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE } from '../../src/api/errors.js';
import { FrameErrorCode } from '../../src/gateway/closeCodes.js';
import { connect, type TestClient } from '../gateway/gatewayHarness.js';
import { call, startLiveServer, type LiveServer } from '../support/liveServer.js';

const HTTP_RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const WS_RUNS = Number(process.env.FUZZ_WS_RUNS ?? Math.round(HTTP_RUNS * 0.75));
const TIME_LIMIT_MS = 45_000;

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  maxLength?: number;
  maximum?: number;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  const?: unknown;
  additionalProperties?: boolean | JsonSchema;
};
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: JsonSchema;
}
interface Operation {
  method: string;
  path: string;
  parameters: Parameter[];
  body?: JsonSchema;
}

let server: LiveServer;
let operations: Operation[];
let token: string;
/** Requests rotate over the group's members, each under the per-user rate limit (1,200 a minute). */
let memberTokens: string[];
const MEMBERS = Array.from({ length: 6 }, (_, i) => `fuzz-member-${i}`);
let fixture: { conversationId: string; messageId: string };
const stats = { http: 0, httpRefused: 0, httpAccepted: 0, ws: 0, wsRefused: 0, codes: new Map<string, number>() };

beforeAll(async () => {
  server = await startLiveServer({ devAuth: true });
  token = await server.tokenFor('fuzz-owner', { admin: true });
  memberTokens = [token, ...(await Promise.all(MEMBERS.map((m) => server.tokenFor(m, { admin: true }))))];
  const group = await call(server.base, 'POST', '/v1/groups', { token, body: { name: 'fuzzed', memberIds: MEMBERS } });
  const sent = await call(server.base, 'POST', `/v1/conversations/${group.json.conversationId}/messages`, {
    token,
    body: { clientMsgId: 'seed', kind: 'text', body: { text: 'seed' } },
  });
  fixture = { conversationId: group.json.conversationId, messageId: sent.json.messageId };
  const doc = (await call(server.base, 'GET', '/openapi.json')).json as {
    paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: JsonSchema }> } }>>;
  };
  operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      parameters: op.parameters ?? [],
      body: op.requestBody?.content['application/json']?.schema,
    })),
  );
}, 60_000);

afterAll(async () => {
  // The numbers for the note (docs: /work/notes); printed, not asserted.
  console.info(
    `hostile input: ${stats.http} HTTP requests (${stats.httpRefused} refused, ${stats.httpAccepted} accepted), ${stats.ws} WebSocket frames (${stats.wsRefused} refused); codes ${JSON.stringify(Object.fromEntries(stats.codes))}`,
  );
  await server?.close();
});

// ---- valid values, from the schema (plus the ids of the fixture, so requests reach the domain) ----

let counter = 0;
function validValue(name: string, schema: JsonSchema): unknown {
  switch (name) {
    case 'id':
    case 'conversationId':
      return fixture.conversationId;
    case 'messageId':
      return fixture.messageId;
    case 'clientMsgId':
      return `fuzz-${++counter}`;
    case 'body':
      return { text: 'fuzz' };
    case 'userIds':
      return schema.type === 'string' ? 'fuzz-member-0,nobody' : [`newbie-${++counter}`];
    case 'since':
      return undefined;
  }
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.enum[0];
  if (schema.anyOf) return validValue(name, schema.anyOf.find((s) => s.const !== undefined || s.type !== 'null') ?? schema.anyOf[0]!);
  switch (Array.isArray(schema.type) ? schema.type[0] : schema.type) {
    case 'string':
      return name === 'userId' || name === 'peerId' ? 'fuzz-member-1' : 'fuzz';
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, s]) => [k, validValue(k, s)]));
    default:
      return null;
  }
}

// ---- hostile values ----

/**
 * A value nested `depth` levels deep (arrays or objects). It is written as JSON text directly (see
 * toJsonText): JSON.stringify, and fast-check printing a counterexample, would recurse once per level.
 */
class Nested {
  constructor(
    readonly depth: number,
    readonly asObject: boolean,
  ) {}
  text(): string {
    return this.asObject ? `${'{"n":'.repeat(this.depth)}"bottom"${'}'.repeat(this.depth)}` : `${'['.repeat(this.depth)}"bottom"${']'.repeat(this.depth)}`;
  }
  [fc.toStringMethod](): string {
    return `Nested(${this.depth}, ${this.asObject ? 'objects' : 'arrays'})`;
  }
}
const NESTED_MARK = /"@@nested:(\d+):([01])@@"/g;
/** JSON.stringify, with every Nested written out as its text. */
function toJsonText(value: unknown): string {
  const marked = JSON.stringify(value, (_key, v: unknown) => (v instanceof Nested ? `@@nested:${v.depth}:${v.asObject ? 1 : 0}@@` : v)) ?? 'null';
  return marked.replace(NESTED_MARK, (_, depth: string, asObject: string) => new Nested(Number(depth), asObject === '1').text());
}
const nested = (depth: number, asObject: boolean) => new Nested(depth, asObject);

const nastyString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', '\udc00x', '\u202e', '../../etc/passwd', "'; DROP TABLE events; --", '%00', '__proto__', '{{7*7}}', 'A'.repeat(300)),
);

const wrongType = (schema: JsonSchema): fc.Arbitrary<unknown> => {
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  return fc
    .oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }))
    .filter((v) => jsonType(v) !== type && !(type === 'number' && jsonType(v) === 'integer') && !(type === 'integer' && jsonType(v) === 'number' && Number.isInteger(v)));
};
const jsonType = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v;

/** Longer than allowed: just past maxLength, past the message body limit, past the request body limit. */
const oversized = (schema: JsonSchema, upTo: number) =>
  fc.constantFrom(schema.maxLength ?? 256, 16 * 1024, 70 * 1024).filter((n) => n < upTo).map((n) => 'x'.repeat(n + 1));

/** Replaces one field's value with something it must not be. */
const hostileField = (schema: JsonSchema, maxStringBytes = Infinity): fc.Arbitrary<unknown> =>
  fc.oneof(
    wrongType(schema),
    oversized(schema, maxStringBytes),
    nastyString,
    fc.integer({ min: 1, max: 4000 }).chain((depth) => fc.boolean().map((asObject) => nested(depth, asObject))),
    fc.constantFrom(-1, 2 ** 31, 2 ** 53 + 1, 1e308, -0, 0.5, '1', 'true', ''),
    fc.jsonValue({ maxDepth: 6 }),
  );

/** Goes into the URL as it is, unencoded (broken percent-escapes, invalid UTF-8). */
class RawUrlPart {
  constructor(readonly text: string) {}
  [fc.toStringMethod](): string {
    return `RawUrlPart(${JSON.stringify(this.text)})`;
  }
}

/** Percent-encodes the UTF-8 bytes (encodeURIComponent throws on a lone surrogate; this sends U+FFFD). */
function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) out += /[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).padStart(2, '0')}`;
  return out;
}

type Mutation =
  | { kind: 'field'; target: 'body' | 'query' | 'path'; name: string; value: unknown }
  | { kind: 'drop'; name: string }
  | { kind: 'unknownField'; target: 'body' | 'query'; name: string; value: unknown }
  | { kind: 'rawBody'; text: string; contentType: string }
  | { kind: 'wholeBody'; value: unknown }
  | { kind: 'header'; name: string; value: string };

/** Header values a client can put on the wire (fetch refuses CR, LF, NUL and non-Latin-1). */
const headerValue = fc.oneof(
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 200 }),
  fc.constantFrom('', ' ', 'Bearer', 'Bearer ', 'Bearer a.b.c', 'Basic YTpi', `Bearer ${'x'.repeat(9000)}`, 'x'.repeat(65), '../..'),
);
/** Headers the API reads: the token, the device id, the request id. */
const hostileHeader: fc.Arbitrary<Mutation> = fc
  .tuple(fc.constantFrom('authorization', 'x-device-id', 'x-request-id'), headerValue)
  .map(([name, value]) => ({ kind: 'header', name, value }));

function mutations(op: Operation): fc.Arbitrary<Mutation> {
  const props = Object.entries(op.body?.properties ?? {});
  const params = op.parameters.filter((p) => p.in !== 'header');
  const options: Array<fc.Arbitrary<Mutation>> = [
    hostileHeader,
    fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })).map(([name, value]) => ({ kind: 'unknownField', target: 'query', name: `x${name}`, value })),
  ];
  if (props.length > 0) {
    options.push(
      fc.constantFrom(...props).chain(([name, s]) => hostileField(s).map((value) => ({ kind: 'field', target: 'body', name, value }) as Mutation)),
      fc.constantFrom(...(op.body!.required ?? props.map(([n]) => n))).map((name) => ({ kind: 'drop', name }) as Mutation),
    );
  }
  if (op.body) {
    options.push(
      fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), fc.jsonValue({ maxDepth: 2 })).map(([name, value]) => ({ kind: 'unknownField', target: 'body', name: `x${name}`, value }) as Mutation),
      fc.oneof(
        fc.string({ maxLength: 60 }).map((text) => ({ kind: 'rawBody', text, contentType: 'application/json' }) as Mutation),
        fc.constantFrom('{"a":', '[1,2', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', 'null', '"str"', '1e999', '\u0000').map(
          (text) => ({ kind: 'rawBody', text, contentType: 'application/json' }) as Mutation,
        ),
        fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml').map(
          (contentType) => ({ kind: 'rawBody', text: 'a=1', contentType }) as Mutation,
        ),
        fc.constant({ kind: 'rawBody', text: `{"pad":"${'p'.repeat(70 * 1024)}"}`, contentType: 'application/json' } as Mutation),
      ),
      fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.integer({ min: 100, max: 5000 }).map((d) => nested(d, false))).map((value) => ({ kind: 'wholeBody', value }) as Mutation),
    );
  }
  for (const p of params) {
    options.push(hostileField(p.schema).map((value) => ({ kind: 'field', target: p.in === 'path' ? 'path' : 'query', name: p.name, value }) as Mutation));
  }
  const pathParams = params.filter((p) => p.in === 'path');
  if (pathParams.length > 0) {
    const badIds = fc.constantFrom<unknown>(
      fixture.conversationId.toUpperCase(),
      'not-a-uuid',
      '00000000-0000-0000-0000-00000000000g',
      '..',
      'a'.repeat(2000),
      randomUUID().replaceAll('-', ''),
      new RawUrlPart('%ff%fe'),
      new RawUrlPart('%'),
      new RawUrlPart('%zz'),
      new RawUrlPart('%2e%2e%2f%2e%2e'),
      new RawUrlPart('%00'),
      new RawUrlPart(`${fixture.conversationId}%00`),
    );
    options.push(fc.tuple(fc.constantFrom(...pathParams), badIds).map(([p, value]) => ({ kind: 'field', target: 'path', name: p.name, value }) as Mutation));
  }
  return fc.oneof(...options);
}

/** The well-formed request of `op`, with `mutation` applied. */
function buildRequest(op: Operation, mutation: Mutation): { method: string; url: string; body?: string; contentType?: string; headers?: Record<string, string> } {
  const pathValues: Record<string, unknown> = {};
  const query: Record<string, unknown> = {};
  for (const p of op.parameters) {
    if (p.in === 'path') pathValues[p.name] = validValue(p.name, p.schema);
    else if (p.in === 'query' && p.required) query[p.name] = validValue(p.name, p.schema);
  }
  let body: unknown = op.body ? validValue('(body)', { ...op.body, type: 'object' }) : undefined;
  let raw: { text: string; contentType: string } | undefined;
  switch (mutation.kind) {
    case 'field':
      if (mutation.target === 'path') pathValues[mutation.name] = mutation.value;
      else if (mutation.target === 'query') query[mutation.name] = mutation.value;
      else body = { ...(body as object), [mutation.name]: mutation.value };
      break;
    case 'drop':
      body = Object.fromEntries(Object.entries(body as object).filter(([k]) => k !== mutation.name));
      break;
    case 'unknownField':
      if (mutation.target === 'query') query[mutation.name] = mutation.value;
      else body = { ...(body as object), [mutation.name]: mutation.value };
      break;
    case 'rawBody':
      raw = { text: mutation.text, contentType: mutation.contentType };
      break;
    case 'wholeBody':
      body = mutation.value;
      break;
    case 'header':
      break;
  }
  const headers = mutation.kind === 'header' ? { [mutation.name]: mutation.value } : undefined;
  const encode = (v: unknown) => (v instanceof RawUrlPart ? v.text : percentEncode(typeof v === 'string' ? v : toJsonText(v)));
  const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => encode(pathValues[name]));
  const qs = Object.entries(query)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encode(v)}`)
    .join('&');
  const url = qs ? `${path}?${qs}` : path;
  if (raw) return { method: op.method, url, body: raw.text, contentType: raw.contentType, headers };
  if (body === undefined) return { method: op.method, url, headers };
  return { method: op.method, url, body: toJsonText(body), contentType: 'application/json', headers };
}

function countCode(code: string): void {
  stats.codes.set(code, (stats.codes.get(code) ?? 0) + 1);
}

describe('hostile HTTP requests, from the OpenAPI schemas', () => {
  it('never get a 5xx, always a catalogued problem+json, and a refusal appends nothing', async () => {
    expect(operations.length).toBeGreaterThan(15);
    const opAndMutation = fc.constantFrom(...operations).chain((op) => mutations(op).map((mutation) => ({ op, mutation })));
    await fc.assert(
      fc.asyncProperty(opAndMutation, async ({ op, mutation }) => {
        const request = buildRequest(op, mutation);
        const before = await server.eventCount();
        const response = await fetch(server.base + request.url, {
          method: request.method,
          headers: {
            authorization: `Bearer ${memberTokens[stats.http % memberTokens.length]}`,
            ...(request.contentType ? { 'content-type': request.contentType } : {}),
            ...request.headers,
          },
          ...(request.body === undefined ? {} : { body: request.body }),
        });
        const text = await response.text();
        stats.http += 1;
        const label = `${request.method} ${request.url.slice(0, 200)} ${JSON.stringify(request.headers ?? {}).slice(0, 200)} ${String(request.body).slice(0, 200)} -> ${response.status} ${text.slice(0, 300)}`;
        expect(response.status, label).toBeLessThan(500);
        if (response.status < 400) {
          stats.httpAccepted += 1;
          return;
        }
        stats.httpRefused += 1;
        expect(response.headers.get('content-type'), label).toMatch(/^application\/problem\+json/);
        const problem = JSON.parse(text) as { type: string; status: number; code: string; title: string };
        expect(Object.hasOwn(ERROR_CATALOGUE, problem.code), `${label}: uncatalogued code`).toBe(true);
        expect(problem, label).toMatchObject({ type: `urn:missive:problem:${problem.code}`, status: response.status, title: ERROR_CATALOGUE[problem.code]!.title });
        countCode(problem.code);
        expect(await server.eventCount(), `${label}: a refused request appended events`).toBe(before);
      }),
      { numRuns: HTTP_RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, seed: Number(process.env.FUZZ_SEED ?? 20261123) },
    );
  }, 120_000);
});

// ---- WebSocket frames ----

const validFrames = (): Record<string, Record<string, unknown>> => ({
  send: { op: 'send', conversationId: fixture.conversationId, clientMsgId: `ws-fuzz-${++counter}`, kind: 'text', body: { text: 'fuzz' } },
  sync: { op: 'sync', limit: 10 },
  ping: { op: 'ping' },
  auth: { op: 'auth', token },
});
const FRAME_FIELDS: Record<string, JsonSchema> = {
  conversationId: { type: 'string' },
  clientMsgId: { type: 'string', maxLength: 64 },
  kind: { type: 'string' },
  body: { type: 'object' },
  limit: { type: 'integer' },
  since: { type: 'string', maxLength: 16 * 1024 },
  token: { type: 'string', maxLength: 8192 },
  id: { type: 'string', maxLength: 128 },
  op: { type: 'string' },
};

type FrameMutation = { kind: 'field'; name: string; value: unknown } | { kind: 'drop'; name: string } | { kind: 'unknown'; name: string } | { kind: 'raw'; text: string } | { kind: 'binary' };

const frameMutation: fc.Arbitrary<{ op: string; mutation: FrameMutation }> = fc.constantFrom('send', 'sync', 'ping', 'auth').chain((op) =>
  fc
    .oneof(
      fc.constantFrom(...Object.keys(FRAME_FIELDS)).chain((name) => hostileField(FRAME_FIELDS[name]!, WS_FUZZ_MAX_STRING).map((value) => ({ kind: 'field', name, value }) as FrameMutation)),
      fc.constantFrom(...Object.keys(validFrames()[op]!)).map((name) => ({ kind: 'drop', name }) as FrameMutation),
      fc.string({ minLength: 1, maxLength: 10 }).map((name) => ({ kind: 'unknown', name: `x${name}` }) as FrameMutation),
      fc.oneof(fc.string({ unit: 'binary', maxLength: 50 }), fc.constantFrom('{', '[]', 'null', '42', '"op"', '{"op":null}', '{"op":"sync","__proto__":{"x":1}}')).map(
        (text) => ({ kind: 'raw', text }) as FrameMutation,
      ),
      fc.constant({ kind: 'binary' } as FrameMutation),
    )
    .map((mutation) => ({ op, mutation })),
);

/** Frames above the gateway's maxFrameBytes (64 KiB) close the socket with 1009: wsAbuse.int.spec.ts covers those. */
const WS_FUZZ_MAX_STRING = 60 * 1024;

const FRAME_CODES = new Set<string>([...Object.values(FrameErrorCode), ...Object.keys(ERROR_CATALOGUE)]);

describe('hostile WebSocket frames', () => {
  let client: TestClient;
  beforeAll(async () => {
    client = await connect(server.wsUrl, { headers: { authorization: `Bearer ${token}` } });
  });
  afterAll(() => client?.ws.terminate());

  it('get an error frame with a stable code (never internal_error), keep the socket open, and append nothing', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(frameMutation, async ({ op, mutation }) => {
        const id = `f${++n}`;
        const frame: Record<string, unknown> = { ...validFrames()[op]!, id };
        if (mutation.kind === 'field') frame[mutation.name] = mutation.value;
        if (mutation.kind === 'drop') delete frame[mutation.name];
        if (mutation.kind === 'unknown') frame[mutation.name] = 1;
        const before = await server.eventCount();
        const from = client.frames.length;
        if (mutation.kind === 'raw') client.ws.send(mutation.text);
        else if (mutation.kind === 'binary') client.ws.send(Buffer.from(toJsonText(frame)), { binary: true });
        else client.ws.send(toJsonText(frame));
        stats.ws += 1;
        // Replies come in request order: the next frame after `from` that is not a push hint is ours.
        const reply = await client.waitFor((f) => f.type !== 'sync', { from, timeoutMs: 10_000 });
        const label = `${op} ${JSON.stringify(mutation).slice(0, 300)} -> ${JSON.stringify(reply).slice(0, 300)}`;
        expect(client.ws.readyState, label).toBe(client.ws.OPEN);
        if (reply.type !== 'error') return;
        stats.wsRefused += 1;
        const code = String(reply.code);
        expect(code, label).not.toBe('internal_error');
        expect(FRAME_CODES.has(code), `${label}: unknown code`).toBe(true);
        countCode(`ws:${code}`);
        // The reply is matched to the request when its id could be read back.
        if (reply.id !== null) expect(JSON.stringify(reply.id), label).toBe(JSON.stringify(frame.id));
        expect(await server.eventCount(), `${label}: a refused frame appended events`).toBe(before);
      }),
      { numRuns: WS_RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, seed: Number(process.env.FUZZ_SEED ?? 20261123) },
    );
    // Still a working socket after all of it.
    expect(await client.request({ op: 'ping', id: 'still-there' })).toEqual({ type: 'pong', id: 'still-there' });
  }, 120_000);
});
