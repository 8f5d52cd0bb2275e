// What every route module receives: the dependencies, the resolved HTTP options and the metrics.
import type { ApiDeps, ApiOptions } from './apiDeps.js';
import type { ApiMetrics } from './metrics.js';

export interface RouteContext {
  deps: ApiDeps;
  options: ApiOptions;
  metrics: ApiMetrics;
}
