// The authorization matrix, table-driven, against a real server on loopback (src/server/serve.ts with
// its projector and gateway): every route of /openapi.json and every WebSocket op, for every kind of
// caller (owner, group admin, member, former member, non-member, operator with the admin claim,
// anonymous, expired token), on existing and on missing ids. Each answer must be the documented one
// (docs/api.md, docs/websocket.md); a refused request appends nothing (events counted in PostgreSQL);
// and what a caller may not see never shows up in bodies, headers or error texts: a non-member gets
// exactly the answer for a conversation that does not exist.
//
// A route missing from ROUTES fails the first test, so a new route cannot skip the matrix.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, refusal, type Frame } from '../gateway/gatewayHarness.js';
import { call, startLiveServer, type LiveServer } from '../support/liveServer.js';

const PRINCIPALS = ['owner', 'admin', 'member', 'former', 'nonMember', 'operator', 'anonymous', 'expired'] as const;
type Principal = (typeof PRINCIPALS)[number];
type Variant = 'existing' | 'missingConversation' | 'missingTarget';
/** Callers who are in the group now. */
type Role = 'owner' | 'admin' | 'member';
const ROLES: readonly Role[] = ['owner', 'admin', 'member'];

const USERS: Record<Exclude<Principal, 'anonymous' | 'expired'>, string> = {
  owner: 'olga',
  admin: 'adam',
  member: 'mona',
  former: 'fred',
  nonMember: 'nina',
  operator: 'ops-oscar',
};
/** A plain member other principals act upon (removed, promoted). */
const TARGET_MEMBER = 'mike';
/** Texts only the group's current members may ever read. */
const GROUP_NAME = 'matrix secret group';
const SECRET_TEXT = 'matrix secret before';
const AFTER_LEAVE_TEXT = 'matrix secret after fred left';

interface Expected {
  status: number;
  code?: string;
}
const ok = (status = 200): Expected => ({ status });
const refused = (status: number, code: string): Expected => ({ status, code });
const NOT_FOUND = refused(404, 'conversation_not_found');
const FORBIDDEN = refused(403, 'forbidden');
const NOT_SENDER = refused(403, 'not_message_sender');

interface RouteCase {
  /** Anyone may call it (no token needed; a token, even an expired one, changes nothing). */
  public?: boolean;
  /** Has {messageId} or {userId}: tried with that id missing too. */
  target?: 'message' | 'member';
  body?: () => unknown;
  /** The answer for an authenticated, valid-token caller. */
  expect(principal: Exclude<Principal, 'anonymous' | 'expired'>, variant: Variant): Expected;
  /** Changes state when it succeeds: each successful call gets a fresh group so rows stay independent. */
  mutates?: boolean;
}

let unique = 0;
const next = (prefix: string) => `${prefix}-${++unique}`;

/** A route on one conversation: current members in `allowed` succeed; other members get `otherwise`. */
function scoped(allowed: readonly Role[], success: Expected, otherwise: Expected, missingTarget?: (role: Role) => Expected) {
  return (principal: Exclude<Principal, 'anonymous' | 'expired'>, variant: Variant): Expected => {
    if (variant === 'missingConversation') return NOT_FOUND;
    if (!(ROLES as readonly string[]).includes(principal)) return NOT_FOUND; // former, nonMember, operator
    const role = principal as Role;
    if (variant === 'missingTarget') return missingTarget!(role);
    return allowed.includes(role) ? success : otherwise;
  };
}
const anyUser = (success: Expected) => () => success;

const ROUTES: Record<string, RouteCase> = {
  'GET /healthz': { public: true, expect: anyUser(ok()) },
  'GET /readyz': { public: true, expect: anyUser(ok()) },
  'GET /metrics': { public: true, expect: anyUser(ok()) },
  'POST /v1/dev/token': { public: true, body: () => ({ userId: 'dev-someone' }), expect: anyUser(ok()) },
  'GET /v1/admin/projections': { expect: (p) => (p === 'operator' ? ok() : FORBIDDEN) },
  'GET /v1/conversations': { expect: anyUser(ok()) },
  'GET /v1/unread': { expect: anyUser(ok()) },
  'GET /v1/sync': { expect: anyUser(ok()) },
  'GET /v1/presence': { expect: anyUser(ok()) },
  'POST /v1/conversations/direct': { body: () => ({ peerId: next('peer') }), mutates: true, expect: anyUser(ok(201)) },
  'POST /v1/groups': { body: () => ({ name: 'another group', memberIds: [] }), mutates: true, expect: anyUser(ok(201)) },
  'GET /v1/conversations/{id}/messages': { expect: scoped(ROLES, ok(), NOT_FOUND) },
  'POST /v1/conversations/{id}/messages': {
    body: () => ({ clientMsgId: next('matrix'), kind: 'text', body: { text: 'matrix send' } }),
    mutates: true,
    expect: scoped(ROLES, ok(201), NOT_FOUND),
  },
  'POST /v1/conversations/{id}/read': { body: () => ({ seq: 2 }), mutates: true, expect: scoped(ROLES, ok(), NOT_FOUND) },
  'PATCH /v1/conversations/{id}/settings': { body: () => ({ muted: true }), mutates: true, expect: scoped(ROLES, ok(204), NOT_FOUND) },
  'PATCH /v1/conversations/{id}/messages/{messageId}': {
    target: 'message',
    body: () => ({ body: { text: 'edited by the matrix' } }),
    mutates: true,
    // The message is the owner's: only the sender edits.
    expect: scoped(['owner'], ok(), NOT_SENDER, () => refused(404, 'message_not_found')),
  },
  'DELETE /v1/conversations/{id}/messages/{messageId}': {
    target: 'message',
    mutates: true,
    // The sender or a group owner/admin recalls.
    expect: scoped(['owner', 'admin'], ok(), NOT_SENDER, () => refused(404, 'message_not_found')),
  },
  'PATCH /v1/groups/{id}': { body: () => ({ name: next('renamed') }), mutates: true, expect: scoped(['owner', 'admin'], ok(), FORBIDDEN) },
  'DELETE /v1/groups/{id}': { mutates: true, expect: scoped(['owner'], ok(), FORBIDDEN) },
  'POST /v1/groups/{id}/members': { body: () => ({ userIds: [next('newbie')] }), mutates: true, expect: scoped(['owner', 'admin'], ok(), FORBIDDEN) },
  'DELETE /v1/groups/{id}/members/{userId}': {
    target: 'member',
    mutates: true,
    // The role is checked before the target: a plain member learns nothing about who is in the group.
    expect: scoped(['owner', 'admin'], ok(), FORBIDDEN, (role) => (role === 'member' ? FORBIDDEN : refused(404, 'not_a_member'))),
  },
  'PUT /v1/groups/{id}/members/{userId}/role': {
    target: 'member',
    body: () => ({ role: 'admin' }),
    mutates: true,
    expect: scoped(['owner'], ok(), FORBIDDEN, (role) => (role === 'owner' ? refused(404, 'not_a_member') : FORBIDDEN)),
  },
  'POST /v1/groups/{id}/leave': { mutates: true, expect: scoped(ROLES, ok(), NOT_FOUND) },
};

const QUERIES: Record<string, string> = { 'GET /v1/presence': '?userIds=olga,nina' };

let server: LiveServer;
const tokens = new Map<Principal, string | null>();

interface Group {
  id: string;
  messageId: string;
}
let shared: Group;

async function as(principal: Principal, method: string, path: string, body?: unknown) {
  return call(server.base, method, path, { token: tokens.get(principal) ?? null, body });
}

/** A group with every role: olga owns it, adam is an admin, mona and mike are members, fred left. */
async function createGroup(): Promise<Group> {
  const created = await as('owner', 'POST', '/v1/groups', { name: GROUP_NAME, memberIds: [USERS.admin, USERS.member, TARGET_MEMBER, USERS.former] });
  expect(created.status).toBe(201);
  const id = created.json.conversationId as string;
  const send = (text: string) => as('owner', 'POST', `/v1/conversations/${id}/messages`, { clientMsgId: next('fixture'), kind: 'text', body: { text } });
  const sent = await send(SECRET_TEXT);
  expect((await as('owner', 'PUT', `/v1/groups/${id}/members/${USERS.admin}/role`, { role: 'admin' })).status).toBe(200);
  expect((await as('former', 'POST', `/v1/groups/${id}/leave`)).status).toBe(200);
  expect((await send(AFTER_LEAVE_TEXT)).status).toBe(201);
  return { id, messageId: sent.json.messageId };
}

/** Waits until every projection has applied the whole log (reads come from them). */
async function settle(): Promise<void> {
  for (let deadline = Date.now() + 20_000; ; await new Promise((r) => setTimeout(r, 50))) {
    const status = await as('operator', 'GET', '/v1/admin/projections');
    if ((status.json.items as Array<{ lagEvents: number }>).every((p) => p.lagEvents === 0)) return;
    if (Date.now() > deadline) throw new Error(`projections did not catch up: ${status.text}`);
  }
}

function pathFor(template: string, group: Group, variant: Variant): string {
  const conversationId = variant === 'missingConversation' ? randomUUID() : group.id;
  const messageId = variant === 'missingTarget' ? randomUUID() : group.messageId;
  const userId = variant === 'missingTarget' ? 'ghost-user' : TARGET_MEMBER;
  return template.replace('{id}', conversationId).replace('{messageId}', messageId).replace('{userId}', userId);
}

/** Status, body and headers, minus what differs per request anyway (time, request id, rate budget). */
function visible(r: { status: number; headers: Headers; text: string }) {
  const headers = Object.fromEntries([...r.headers].filter(([k]) => !['date', 'x-request-id', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'keep-alive'].includes(k)));
  return { status: r.status, body: r.text, headers };
}

/** Nothing of the shared group may appear in what this caller got: no id, name, text or member. */
function expectNoLeak(what: string, r: { headers: Headers; text: string }): void {
  const secrets = [shared.id, shared.messageId, GROUP_NAME, SECRET_TEXT, AFTER_LEAVE_TEXT, TARGET_MEMBER];
  const headerText = [...r.headers].map(([k, v]) => `${k}: ${v}`).join('\n');
  for (const secret of secrets) {
    expect(r.text, `${what}: body shows ${secret}`).not.toContain(secret);
    expect(headerText, `${what}: headers show ${secret}`).not.toContain(secret);
  }
}

beforeAll(async () => {
  server = await startLiveServer({ devAuth: true });
  for (const [principal, userId] of Object.entries(USERS)) tokens.set(principal as Principal, await server.tokenFor(userId, { admin: principal === 'operator' }));
  tokens.set('anonymous', null);
  tokens.set('expired', await server.expiredToken(USERS.member));
  shared = await createGroup();
  await settle();
}, 90_000);
afterAll(async () => server?.close());

describe('the route table', () => {
  it('covers every operation of /openapi.json, and nothing that is not there', async () => {
    const doc = await call(server.base, 'GET', '/openapi.json');
    const operations = Object.entries(doc.json.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations.sort()).toEqual(Object.keys(ROUTES).sort());
  });
});

describe.each(Object.entries(ROUTES))('%s', (route, spec) => {
  const [method, template] = route.split(' ') as [string, string];
  const variants: Variant[] = template.includes('{id}') ? ['existing', 'missingConversation', ...(spec.target ? (['missingTarget'] as const) : [])] : ['existing'];

  it.each(PRINCIPALS)('as %s', async (principal) => {
    const answers = new Map<Variant, Awaited<ReturnType<typeof call>>>();
    for (const variant of variants) {
      const expected: Expected = spec.public
        ? spec.expect('nonMember', variant)
        : principal === 'anonymous'
          ? refused(401, 'unauthorized')
          : principal === 'expired'
            ? refused(401, 'token_expired')
            : spec.expect(principal, variant);
      const succeeds = expected.status < 400;
      // A call that changes the group gets its own group, so that the next rows see the fixture intact.
      const group = succeeds && spec.mutates && template.includes('{id}') ? await createGroup() : shared;
      const path = pathFor(template, group, variant) + (QUERIES[route] ?? '');
      const before = await server.eventCount();
      const answer = await as(principal, method, path, spec.body?.());
      const label = `${principal} ${method} ${path}`;
      expect({ status: answer.status, code: answer.json?.code }, `${label}: ${answer.text.slice(0, 300)}`).toEqual({ status: expected.status, code: expected.code });
      answers.set(variant, answer);
      if (!succeeds) {
        expect(answer.headers.get('content-type'), label).toMatch(/^application\/problem\+json/);
        expect(answer.json).toMatchObject({ type: `urn:missive:problem:${expected.code}`, status: expected.status, code: expected.code });
        if (expected.status === 401) expect(answer.headers.get('www-authenticate'), label).toBe('Bearer error="invalid_token"');
      }
      if (!succeeds || method === 'GET' || spec.public) expect(await server.eventCount(), `${label} appended events`).toBe(before);
      // Outsiders learn nothing about the shared group, whatever they call.
      if (['nonMember', 'operator', 'anonymous', 'expired'].includes(principal)) expectNoLeak(label, answer);
      if (principal === 'former') {
        expect(answer.text, `${label} shows a message sent after they left`).not.toContain(AFTER_LEAVE_TEXT);
        if (!succeeds) expectNoLeak(label, answer);
      }
    }
    // Membership privacy: the group they are not in answers exactly like one that does not exist.
    if (variants.length > 1 && ['former', 'nonMember', 'operator', 'anonymous', 'expired'].includes(principal)) {
      expect(visible(answers.get('existing')!)).toEqual(visible(answers.get('missingConversation')!));
    }
  });
});

describe('WebSocket', () => {
  it('refuses the upgrade to anonymous and expired callers with the documented 401s', async () => {
    const anonymous = await refusal(server.wsUrl);
    expect(anonymous).toMatchObject({ status: 401, body: { code: 'unauthorized', status: 401 } });
    const expired = await refusal(server.wsUrl, { headers: { authorization: `Bearer ${tokens.get('expired')}` } });
    expect(expired).toMatchObject({ status: 401, body: { code: 'token_expired', status: 401 } });
  });

  const SOCKET_PRINCIPALS = ['owner', 'admin', 'member', 'former', 'nonMember', 'operator'] as const;
  it.each(SOCKET_PRINCIPALS)('answers every op as documented for %s, appending nothing when refusing', async (principal) => {
    const client = await connect(server.wsUrl, { headers: { authorization: `Bearer ${tokens.get(principal)}` } });
    try {
      const member = (ROLES as readonly string[]).includes(principal);
      const sendTo = (conversationId: string) => ({ op: 'send', id: next('op'), conversationId, clientMsgId: next('ws'), kind: 'text', body: { text: 'over the socket' } });

      for (const variant of ['existing', 'missingConversation'] as const) {
        const before = await server.eventCount();
        const reply = await client.request(sendTo(variant === 'existing' ? shared.id : randomUUID()));
        if (member && variant === 'existing') {
          expect(reply).toMatchObject({ type: 'send.ack', seq: expect.any(Number), duplicate: false });
          expect(await server.eventCount()).toBe(before + 1);
        } else {
          expect(reply).toMatchObject({ type: 'error', code: 'conversation_not_found' });
          expect(await server.eventCount()).toBe(before);
          if (!member) expect(JSON.stringify(reply)).not.toContain(shared.id);
        }
      }
      if (!member) {
        // The error for a group they are not in is the error for a group that does not exist.
        const [a, b] = [await client.request({ ...sendTo(shared.id), id: 'same' }), await client.request({ ...sendTo(randomUUID()), id: 'same' })];
        expect(a).toEqual(b);
      }

      const before = await server.eventCount();
      const synced = (await client.request({ op: 'sync', id: next('op') })) as Frame & { conversations: Array<{ conversationId: string }> };
      expect(synced.type).toBe('sync.result');
      const sees = synced.conversations.some((c) => c.conversationId === shared.id);
      // Members and the former member have the group in their list (fred's row says he left); outsiders do not.
      expect(sees, `${principal} sees the group in sync`).toBe(member || principal === 'former');
      if (!member) expect(JSON.stringify(synced)).not.toContain(AFTER_LEAVE_TEXT);
      if (principal === 'nonMember' || principal === 'operator') expect(JSON.stringify(synced)).not.toContain(SECRET_TEXT);
      expect(await client.request({ op: 'ping', id: 'p' })).toEqual({ type: 'pong', id: 'p' });
      const renewed = await client.request({ op: 'auth', id: 'a', token: await server.tokenFor(USERS[principal], { ttlSeconds: 600 }) });
      expect(renewed).toMatchObject({ type: 'auth.ok', id: 'a' });
      const expiredRenewal = await client.request({ op: 'auth', id: 'x', token: await server.expiredToken(USERS[principal]) });
      expect(expiredRenewal).toMatchObject({ type: 'error', id: 'x', code: 'token_expired' });
      expect(await server.eventCount()).toBe(before);
      // Another user's token closes the socket with 4002 (a socket belongs to one user).
      client.send({ op: 'auth', id: 'other', token: await server.tokenFor('someone-else') });
      expect(await client.closed).toMatchObject({ code: 4002, reason: 'unauthorized' });
    } finally {
      client.ws.terminate();
    }
  });
});
