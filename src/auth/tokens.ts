// Bearer JWT verification (and dev-token issuing) for the API and the gateway. One module decides what
// a valid token is, so REST and WebSocket accept exactly the same tokens: pinned algorithms, issuer,
// audience and expiry checked, `sub` a valid user id, `admin: true` for operator tokens.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { isValidUserId } from '../domain/ids.js';

/**
 * Verified tokens are remembered by their exact text (signature included, so another token can never
 * hit): most requests repeat the last token of their client, and verifying an HMAC or RSA signature
 * on every request cost ~5% of the service's CPU under load. An entry lives at most
 * VERIFIED_CACHE_TTL_MS (so a rotated-out JWKS key stops being honoured soon) and never past the
 * token's own expiry, which is checked again on every hit.
 */
const VERIFIED_CACHE_SIZE = 10_000;
const VERIFIED_CACHE_TTL_MS = 5 * 60_000;

export interface JwtSettings {
  /** Shared secret (HS256 by default); the only setting that allows issuing (dev) tokens. */
  secret?: string;
  /** A PEM public key (SPKI, RSA or EC) for tokens signed by an identity provider. */
  publicKey?: string;
  /** A JWKS endpoint of an identity provider; keys are fetched and cached by `jose`. */
  jwksUrl?: string;
  issuer: string;
  audience: string;
  /** The accepted `alg`s; defaults: HS256 for a secret, RS256/ES256 (as fits) for a key or a JWKS. */
  algorithms?: string[];
}

export interface VerifiedToken {
  userId: string;
  admin: boolean;
  /** Epoch milliseconds. */
  expiresAt: number;
}

export interface IssueOptions {
  admin?: boolean;
  ttlSeconds?: number;
}

export interface TokenService {
  verify(token: string): Promise<VerifiedToken>;
  issue(userId: string, options?: IssueOptions): Promise<string>;
}

export type AuthErrorCode = 'unauthorized' | 'token_expired';

/** The client's token is missing, invalid or expired: answer 401 with `code`. */
export class AuthError extends Error {
  constructor(
    readonly code: AuthErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The keys could not be obtained (JWKS endpoint down or invalid): our failure, answer 503. */
export class AuthUnavailableError extends Error {
  readonly code = 'auth_unavailable';
}

/** A token cannot be issued: no secret configured, or a bad request (user id, ttl). */
export class TokenIssueError extends Error {
  constructor(
    readonly code: 'dev_tokens_unavailable' | 'invalid_user_id' | 'invalid_ttl',
    message: string,
  ) {
    super(message);
  }
}

export const DEFAULT_TOKEN_TTL_SECONDS = 3600;
export const MAX_TOKEN_TTL_SECONDS = 30 * 24 * 3600;
const SYMMETRIC_ALGORITHMS = new Set(['HS256', 'HS384', 'HS512']);

type VerificationKey = Uint8Array | KeyObject;

export function createTokenService(jwt: JwtSettings): TokenService {
  const secret = jwt.secret === undefined ? undefined : new TextEncoder().encode(jwt.secret);
  const asymmetric = asymmetricKeySource(jwt);
  if (!secret && !asymmetric) throw new Error('JWT settings need a secret, a public key or a JWKS URL');
  const algorithms = jwt.algorithms ?? defaultAlgorithms(secret !== undefined, asymmetric?.defaultAlgorithms ?? []);
  if (algorithms.length === 0) throw new Error('JWT settings allow no algorithm');

  // The key is chosen by the header's alg class, so a public key can never be used as an HMAC secret.
  const resolveKey: JWTVerifyGetKey = async (header, token) => {
    if (SYMMETRIC_ALGORITHMS.has(header.alg)) {
      if (!secret) throw new AuthError('unauthorized', 'Symmetric tokens are not accepted');
      return secret;
    }
    if (!asymmetric) throw new AuthError('unauthorized', 'Asymmetric tokens are not accepted');
    return asymmetric.key(header, token);
  };

  const verified = new LRUCache<string, VerifiedToken>({ max: VERIFIED_CACHE_SIZE, ttl: VERIFIED_CACHE_TTL_MS });

  async function verify(token: string): Promise<VerifiedToken> {
    const known = verified.get(token);
    if (known) {
      if (Date.now() >= known.expiresAt) {
        verified.delete(token);
        throw new AuthError('token_expired', 'The token has expired');
      }
      return known;
    }
    const result = await verifySignatureAndClaims(token);
    verified.set(token, result, { ttl: Math.max(1, Math.min(VERIFIED_CACHE_TTL_MS, result.expiresAt - Date.now())) });
    return result;
  }

  async function verifySignatureAndClaims(token: string): Promise<VerifiedToken> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, resolveKey, {
        algorithms,
        issuer: jwt.issuer,
        audience: jwt.audience,
        requiredClaims: ['sub', 'exp'],
      }));
    } catch (error) {
      throw translateVerifyError(error);
    }
    if (!isValidUserId(payload.sub)) throw new AuthError('unauthorized', 'The token subject is not a valid user id');
    return { userId: payload.sub, admin: payload.admin === true, expiresAt: (payload.exp as number) * 1000 };
  }

  async function issue(userId: string, options: IssueOptions = {}): Promise<string> {
    if (!secret) throw new TokenIssueError('dev_tokens_unavailable', 'Tokens can only be issued with a configured secret');
    if (!isValidUserId(userId)) throw new TokenIssueError('invalid_user_id', 'Not a valid user id');
    const ttl = options.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_TTL_SECONDS) {
      throw new TokenIssueError('invalid_ttl', `ttlSeconds is an integer from 1 to ${MAX_TOKEN_TTL_SECONDS}`);
    }
    const alg = algorithms.find((a) => SYMMETRIC_ALGORITHMS.has(a));
    if (!alg) throw new TokenIssueError('dev_tokens_unavailable', 'No symmetric algorithm is allowed');
    const claims = options.admin ? { admin: true } : {};
    return new SignJWT(claims)
      .setProtectedHeader({ alg, typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(jwt.issuer)
      .setAudience(jwt.audience)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
      .sign(secret);
  }

  return { verify, issue };
}

interface AsymmetricKeySource {
  key: JWTVerifyGetKey;
  defaultAlgorithms: string[];
}

function asymmetricKeySource(jwt: JwtSettings): AsymmetricKeySource | undefined {
  if (jwt.jwksUrl) {
    const jwks = createRemoteJWKSet(new URL(jwt.jwksUrl));
    return { key: (header, token) => jwks(header, token), defaultAlgorithms: ['RS256', 'ES256'] };
  }
  if (jwt.publicKey) {
    const key: VerificationKey = createPublicKey(jwt.publicKey);
    const alg = key.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
    return { key: async () => key, defaultAlgorithms: [alg] };
  }
  return undefined;
}

function defaultAlgorithms(hasSecret: boolean, asymmetric: string[]): string[] {
  return [...(hasSecret ? ['HS256'] : []), ...asymmetric];
}

/** jose's failures → our two client codes; key-fetch trouble is ours, not the client's. */
function translateVerifyError(error: unknown): Error {
  if (error instanceof AuthError) return error;
  if (error instanceof joseErrors.JWTExpired) return new AuthError('token_expired', 'The token has expired');
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid) {
    return new AuthUnavailableError('The signing keys could not be fetched');
  }
  if (error instanceof joseErrors.JOSEError) return new AuthError('unauthorized', 'The token is not valid');
  if (error instanceof TypeError && /fetch/i.test(error.message)) {
    return new AuthUnavailableError('The signing keys could not be fetched');
  }
  // Anything else thrown by jose on malformed input (bad base64, bad JSON) is the client's token.
  return new AuthError('unauthorized', 'The token is not valid');
}
