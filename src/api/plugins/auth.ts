// Authentication for the /v1 scope: every route needs a valid bearer token unless its config says
// `auth: 'public'`; `auth: 'admin'` also needs the token's admin claim. It runs first (onRequest), so
// an anonymous request learns nothing about a route's input rules and costs no body parsing.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AuthError, type TokenService } from '../../auth/tokens.js';
import { isValidDeviceId } from '../../domain/ids.js';
import type { RequestContext } from '../../app/commandService.js';
import { ApiError } from '../errors.js';

export type AuthMode = 'user' | 'admin' | 'public';

export interface Identity {
  userId: string;
  admin: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity | null;
  }
  interface FastifyContextConfig {
    auth?: AuthMode;
  }
}

export const DEVICE_HEADER = 'x-device-id';

export function installAuth(app: FastifyInstance, tokens: TokenService): void {
  app.decorateRequest('identity', null);
  app.addHook('onRequest', async (request) => {
    const mode: AuthMode = request.routeOptions.config.auth ?? 'user';
    if (mode === 'public') return;
    const verified = await tokens.verify(bearerToken(request));
    if (mode === 'admin' && !verified.admin) throw new ApiError('forbidden', 'This route needs an admin token');
    request.identity = { userId: verified.userId, admin: verified.admin };
  });
}

function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer +([^\s]+)\s*$/i.exec(header);
  if (!match) throw new AuthError('unauthorized', 'Send a bearer token: Authorization: Bearer <token>');
  return match[1]!;
}

/** The authenticated user of a route that required one. */
export function identityOf(request: FastifyRequest): Identity {
  if (!request.identity) throw new AuthError('unauthorized', 'Not authenticated');
  return request.identity;
}

/** Who is acting, from which device, under which correlation id: what commands record in metadata. */
export function requestContext(request: FastifyRequest): RequestContext {
  const device = request.headers[DEVICE_HEADER];
  if (device !== undefined && !isValidDeviceId(device)) {
    throw new ApiError('validation_failed', `${DEVICE_HEADER} is 1 to 64 printable ASCII characters without spaces`, {
      errors: [{ path: `headers/${DEVICE_HEADER}`, message: 'invalid device id' }],
    });
  }
  return { actorId: identityOf(request).userId, deviceId: device, correlationId: request.id };
}
