// `missive serve` in the zero-config embedded mode, as a child process: it starts the embedded
// PostgreSQL on its data directory, logs where it listens and answers there; another CLI command finds
// and uses that running database instead of starting a second one; SIGTERM closes it cleanly (exit 0).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/globalSetup.js';
import { linesOf, runMissive, startMissive, type RunningCli } from './cliProcess.js';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'missive-cli-serve-'));
// The embedded server runs as the postgres user when the tests run as root: it must reach the directory.
fs.chmodSync(dataDir, 0o777);
let serving: RunningCli | undefined;

afterAll(async () => {
  // Only if a test failed midway: stop the server this file started, by its own handle.
  if (serving && serving.child.exitCode === null) {
    serving.child.kill('SIGKILL');
    await serving.exited;
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('missive serve', () => {
  it('serves from the embedded database, shares it with other commands, and closes on SIGTERM', async () => {
    const [httpPort, pgPort] = [await freePort(), await freePort()];
    const env = {
      DATABASE_URL: undefined,
      MISSIVE_DATA_DIR: dataDir,
      MISSIVE_EMBEDDED_PG_PORT: String(pgPort),
      PORT: String(httpPort),
      MISSIVE_LOG_LEVEL: 'info',
    };
    serving = startMissive(['serve', '--role', 'api,projector'], env);
    const started = JSON.parse(await serving.waitForOutput(/"msg":"missive serving"/, 45_000));
    expect(started).toMatchObject({ url: `http://127.0.0.1:${httpPort}`, roles: ['api', 'projector'] });
    expect((await fetch(`${started.url}/healthz`)).status).toBe(200);

    // A second command attaches to the database the server holds (starting another would fail).
    const status = await runMissive(['projections', 'status'], '', env);
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect(linesOf(status.stdout).slice(1).map((row) => row.split(/\s{2,}/)[0])).toEqual(['membership', 'timeline', 'inbox', 'sessions']);

    serving.child.kill('SIGTERM');
    const ended = await serving.exited;
    expect(ended.code).toBe(0);
    expect(ended.stdout).toMatch(/"signal":"SIGTERM","msg":"missive closing"/);
    expect(ended.stdout).toMatch(/"msg":"missive closed"/);
  }, 90_000);

  it('an unknown role exits 2 before anything starts', async () => {
    const run = await runMissive(['serve', '--role', 'api,mailer'], 'postgres://unused:unused@127.0.0.1:9/none');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/config_invalid.*Unknown role\(s\): mailer/);
  });
});
