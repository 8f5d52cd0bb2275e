// Which methods each route path accepts, collected as routes are declared, so that a request for a
// known path with a method it does not take answers 405 method_not_allowed with an Allow header
// (RFC 9110 §15.5.6) instead of the 404 of a path that does not exist.
import type { FastifyInstance } from 'fastify';

interface PathMethods {
  pattern: RegExp;
  methods: Set<string>;
}

export interface AllowedMethods {
  /** The methods `path` (no query string) accepts, sorted; empty when no route has this path. */
  of(path: string): string[];
}

/** `/v1/groups/:id/members/:userId` → a regex matching any concrete value of each parameter. */
function patternOf(url: string): RegExp {
  const escaped = url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z0-9_]+/g, '[^/]+');
  return new RegExp(`^${escaped}/?$`);
}

/** Register before the routes: the onRoute hook sees only routes declared after it. */
export function collectAllowedMethods(app: FastifyInstance): AllowedMethods {
  const byUrl = new Map<string, PathMethods>();
  app.addHook('onRoute', (route) => {
    const entry = byUrl.get(route.url) ?? { pattern: patternOf(route.url), methods: new Set<string>() };
    for (const method of [route.method].flat()) entry.methods.add(method);
    byUrl.set(route.url, entry);
  });
  return {
    of(path) {
      const methods = new Set<string>();
      for (const entry of byUrl.values()) if (entry.pattern.test(path)) for (const m of entry.methods) methods.add(m);
      return [...methods].sort();
    },
  };
}
