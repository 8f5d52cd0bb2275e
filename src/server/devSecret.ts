// The embedded default's development login needs a signing secret; none is configured there, so one is
// made on first start and kept in the data directory (tokens stay valid across restarts).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export function loadOrCreateDevSecret(dataDir: string): string {
  const file = path.resolve(dataDir, 'dev-jwt-secret');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  fs.writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
