// Completes a route's schema with what every route shares: its OpenAPI tags and bearer security, and
// the problem+json answers for 4xx/5xx. Routes state only what is particular to them.
import type { TSchema } from '@sinclair/typebox';
import { PROBLEM_CONTENT_TYPE } from './problem.js';
import { ProblemSchema } from './schemas/problem.js';

export const BEARER_SECURITY = 'bearerAuth';

interface RouteParts {
  summary: string;
  description?: string;
  tags: string[];
  params?: TSchema;
  querystring?: TSchema;
  body?: TSchema;
  response: Record<number, TSchema>;
  /** Routes anyone may call (no bearer token). */
  public?: boolean;
  /** Left out of the OpenAPI document (e.g. the docs page itself). */
  hide?: boolean;
}

const problemAnswer = (description: string) => ({ description, content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } } });

export function routeSchema<P extends RouteParts>(parts: P) {
  const { public: isPublic, response, ...rest } = parts;
  return {
    ...rest,
    ...(isPublic ? {} : { security: [{ [BEARER_SECURITY]: [] }] }),
    response: {
      ...response,
      '4xx': problemAnswer('The request was refused; `code` says why'),
      '5xx': problemAnswer('The service failed; retry when Retry-After is given'),
    } as P['response'] & { '4xx': unknown; '5xx': unknown },
  };
}
