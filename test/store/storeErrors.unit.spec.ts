import { describe, expect, it } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { isUnavailable, toStoreError } from '../../src/store/postgres/storeErrors.js';
import { StoreUnavailableError } from '../../src/store/eventStore.js';

describe('which PostgreSQL failures mean "unavailable, retry"', () => {
  it('a Unix-socket DATABASE_URL whose server is down (no socket file) is unavailable, as a refused TCP connect is', async () => {
    const socketDir = path.join(os.tmpdir(), `missive-no-server-${process.pid}`);
    const client = new pg.Client({ connectionString: `postgres://u:p@${encodeURIComponent(socketDir)}:5432/db` });
    const error = await client.connect().then(() => null, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENOENT', syscall: 'connect' });
    expect(isUnavailable(error)).toBe(true);
    expect(toStoreError(error)).toBeInstanceOf(StoreUnavailableError);
    expect(isUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED', syscall: 'connect' }))).toBe(true);
  });

  it('a missing file met anywhere else is not mistaken for an outage', () => {
    expect(isUnavailable(Object.assign(new Error("ENOENT: no such file or directory, open 'x'"), { code: 'ENOENT', syscall: 'open' }))).toBe(false);
    expect(isUnavailable(new Error('syntax error'))).toBe(false);
  });
});
