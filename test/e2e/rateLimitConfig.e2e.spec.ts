// `missive serve` takes its per-user request budget from MISSIVE_RATE_LIMIT_PER_MINUTE: the configured
// limit reaches the real server, and past it a request gets 429 rate_limited with Retry-After.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killServe, SECRET, startServe, type ServeChild } from '../faults/support/serveChild.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { freePort } from '../support/freePort.js';

describe('the rate limit from the environment', () => {
  let db: TestDatabase;
  let server: ServeChild | undefined;

  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    server = await startServe({ databaseUrl: db.url, port: await freePort(), env: { MISSIVE_RATE_LIMIT_PER_MINUTE: '3' } });
  }, 60_000);

  afterAll(async () => {
    await killServe(server);
    await db?.drop();
  });

  it('answers 429 rate_limited past MISSIVE_RATE_LIMIT_PER_MINUTE requests of one user', async () => {
    // Signed here rather than through the dev login: that login is counted per client IP, and with a
    // shared Redis other tests' logins from 127.0.0.1 could already have spent this tiny budget.
    // A fresh user id for the same reason: the per-user counters may live in a Redis that outlives the run.
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(`rate-limited-${randomUUID()}`)
      .setIssuer('missive')
      .setAudience('missive')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(SECRET));
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 4; i++) {
      last = await fetch(`${server!.base}/v1/conversations`, { headers: { authorization: `Bearer ${token}` } });
      statuses.push(last.status);
      if (i === 0) expect(last.headers.get('x-ratelimit-limit')).toBe('3');
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await last!.json()) as { code: string }).code).toBe('rate_limited');
  });
});
