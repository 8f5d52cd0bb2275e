// `missive token` as a child process: the printed JWT verifies with the server's token service and
// carries the requested claims; without a configured secret it refuses with exit 2. It never opens
// the database (the URL given points nowhere).
import { describe, expect, it } from 'vitest';
import { createTokenService } from '../../src/auth/tokens.js';
import { runMissive } from './cliProcess.js';

const NOWHERE = 'postgres://unused:unused@127.0.0.1:9/none';
const SECRET = 'cli-test-secret-0123456789';

describe('missive token', () => {
  it('prints a token the server accepts, with the admin claim and the ttl asked for', async () => {
    const run = await runMissive(['token', 'alice', '--admin', '--ttl', '120'], NOWHERE, { MISSIVE_JWT_SECRET: SECRET, MISSIVE_JWT_ISSUER: 'iss-x' });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const verified = await createTokenService({ secret: SECRET, issuer: 'iss-x', audience: 'missive' }).verify(run.stdout.trim());
    expect(verified).toMatchObject({ userId: 'alice', admin: true });
    expect(verified.expiresAt - Date.now()).toBeGreaterThan(100_000);
    expect(verified.expiresAt - Date.now()).toBeLessThanOrEqual(120_000);
  });

  it('refuses with exit 2 when no secret is configured', async () => {
    const run = await runMissive(['token', 'alice'], NOWHERE, { MISSIVE_JWT_SECRET: undefined });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/token_signing_disabled/);
  });
});
