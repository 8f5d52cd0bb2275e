// openDatabase (src/db/connect.ts), which the CLI opens every command with: DATABASE_URL as given; in
// embedded mode, the embedded server started on the data directory, or — when a process (a running
// `missive serve`) already runs it — that server, attached to and left running on close.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { openDatabase } from '../../src/db/connect.js';
import { freePort } from '../support/globalSetup.js';
import { createTestDatabase } from '../support/postgres.js';

const dataDirs: string[] = [];
afterAll(() => {
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
});

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

describe('openDatabase', () => {
  it('uses DATABASE_URL as given', async () => {
    const db = await createTestDatabase({ migrate: false });
    const opened = await openDatabase(loadConfig({ DATABASE_URL: db.url }));
    expect(opened.source).toBe('external');
    expect((await opened.pool.query('SELECT current_database() AS name')).rows[0].name).toBe(new URL(db.url).pathname.slice(1));
    await opened.close();
    await db.drop();
  });

  it('embedded: starts the server on the data directory, attaches to it from a second opener, stops it on the first close', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'missive-cli-embedded-'));
    dataDirs.push(dataDir);
    // The server runs as the postgres user when the tests run as root: it must reach the directory.
    fs.chmodSync(dataDir, 0o777);
    const port = await freePort();
    const config = loadConfig({ MISSIVE_DATA_DIR: dataDir, MISSIVE_EMBEDDED_PG_PORT: String(port) });

    const first = await openDatabase(config);
    expect(first.source).toBe('started');
    expect(fs.existsSync(path.join(dataDir, 'pg', 'PG_VERSION'))).toBe(true);

    const second = await openDatabase(config);
    expect(second.source).toBe('attached');
    await second.pool.query('CREATE TABLE written_by_second (n int)');
    await second.close();
    expect(await accepts(port)).toBe(true); // the attached opener left the server running

    expect((await first.pool.query("SELECT to_regclass('written_by_second') IS NOT NULL AS found")).rows[0].found).toBe(true);
    await first.close();
    expect(await accepts(port)).toBe(false);
  }, 60_000);

  it('embedded: a port taken by a server that refuses the embedded credentials is an error, not a second server', async () => {
    const adminPort = Number(new URL(inject('pgAdminUrl')).port);
    // The run's test server listens there, without a database named missive.
    const config = loadConfig({ MISSIVE_DATA_DIR: os.tmpdir(), MISSIVE_EMBEDDED_PG_PORT: String(adminPort) });
    await expect(openDatabase(config)).rejects.toThrow(/is not Missive's embedded PostgreSQL/);
  });
});
