// `missive token` as a child process: the printed JWT verifies with the server's token service and
// carries the requested claims, signed with MISSIVE_JWT_SECRET or, with the dev login on, with the
// development secret the server keeps in the data directory; with neither it refuses with exit 2.
// It never opens the database (the URL given points nowhere).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createTokenService } from '../../src/auth/tokens.js';
import { loadOrCreateDevSecret } from '../../src/server/devSecret.js';
import { runMissive } from './cliProcess.js';

const NOWHERE = 'postgres://unused:unused@127.0.0.1:9/none';
const SECRET = 'cli-test-secret-0123456789';
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'missive-cli-token-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

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

  it('with the dev login on and no secret, signs with the development secret of the data directory', async () => {
    const run = await runMissive(['token', 'bob'], NOWHERE, { MISSIVE_JWT_SECRET: undefined, MISSIVE_DEV_AUTH: 'true', MISSIVE_DATA_DIR: dataDir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // The file the CLI created is the one `missive serve` on this data directory verifies with.
    const tokens = createTokenService({ secret: loadOrCreateDevSecret(dataDir), issuer: 'missive', audience: 'missive' });
    expect(await tokens.verify(run.stdout.trim())).toMatchObject({ userId: 'bob', admin: false });
  });

  it('refuses with exit 2 when neither a secret nor the dev login is configured', async () => {
    const run = await runMissive(['token', 'alice'], NOWHERE, { MISSIVE_JWT_SECRET: undefined, MISSIVE_DEV_AUTH: 'false' });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/token_signing_disabled/);
  });
});
