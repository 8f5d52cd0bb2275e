// Signs a token through the server's own token service, with the secret the server verifies with: the
// configured MISSIVE_JWT_SECRET, or with the dev login on, the development secret kept in the data
// directory (src/server/devSecret.ts; created on first use, exactly as `missive serve` would).
import { createTokenService, type IssueOptions } from '../../auth/tokens.js';
import { loadConfig, type Config } from '../../config/config.js';
import { loadOrCreateDevSecret } from '../../server/devSecret.js';
import { CliInputError } from '../cliErrors.js';

/** A signed JWT; the token service rejects a bad ttl (TokenIssueError invalid_ttl, exit 2). */
export function issueToken(userId: string, options: IssueOptions): Promise<string> {
  const config = loadConfig();
  return createTokenService({ ...config.jwt, secret: signingSecret(config) }).issue(userId, options);
}

function signingSecret(config: Config): string {
  if (config.jwt.secret) return config.jwt.secret;
  if (config.devAuth) return loadOrCreateDevSecret(config.dataDir);
  throw new CliInputError(
    'token_signing_disabled',
    'tokens can be signed only with MISSIVE_JWT_SECRET (the secret the server verifies with) or with the dev login on (MISSIVE_DEV_AUTH)',
  );
}
