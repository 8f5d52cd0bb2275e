// The token service's settings from the validated Config. Only a secret can be configured today
// (MISSIVE_JWT_SECRET); with the dev login on and no secret, a random per-process secret lets the
// embedded mode run with zero configuration (its tokens die with the process, and other processes,
// such as `missive token`, cannot sign for it). Without either, the server cannot authenticate anyone.
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/config.js';
import type { JwtSettings } from './tokens.js';

export class AuthConfigError extends Error {
  readonly code = 'auth_config_invalid';
}

export function jwtSettingsFromConfig(config: Pick<Config, 'jwt' | 'devAuth'>, randomSecret = () => randomBytes(32).toString('base64url')): JwtSettings {
  const { secret, issuer, audience } = config.jwt;
  if (secret) return { secret, issuer, audience };
  if (config.devAuth) return { secret: randomSecret(), issuer, audience };
  throw new AuthConfigError('No way to verify tokens: set MISSIVE_JWT_SECRET (or enable the dev login with MISSIVE_DEV_AUTH)');
}
