// Signs a token with the configured secret through the server's own token service.
import { createTokenService, type IssueOptions } from '../../auth/tokens.js';
import { loadConfig, type Config } from '../../config/config.js';
import { CliInputError } from '../cliErrors.js';

/** A signed JWT; the token service rejects a bad ttl (TokenIssueError invalid_ttl, exit 2). */
export function issueToken(userId: string, options: IssueOptions): Promise<string> {
  return createTokenService(signingSettings(loadConfig())).issue(userId, options);
}

function signingSettings(config: Config): { secret: string; issuer: string; audience: string } {
  const { secret, issuer, audience } = config.jwt;
  if (secret) return { secret, issuer, audience };
  throw new CliInputError(
    'token_signing_disabled',
    config.devAuth
      ? "no MISSIVE_JWT_SECRET is configured: set it for both the server and the CLI, or use the server's dev login (POST /v1/dev/token)"
      : 'token signing needs MISSIVE_JWT_SECRET (the secret the server verifies with)',
  );
}
