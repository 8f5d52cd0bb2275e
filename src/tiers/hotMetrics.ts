// Prometheus gauges of the hot projection, read at scrape time: whether the hot tier serves reads,
// its position in the log, and how often it found its state lost and rebuilt itself.
import { Gauge, type Registry } from 'prom-client';
import type { HotProjection } from './hotProjection.js';

export function registerHotMetrics(registry: Registry, projection: Pick<HotProjection, 'status'>): void {
  const registers = [registry];
  let inflight: ReturnType<HotProjection['status']> | null = null;
  // The three gauges share one status read per scrape; a failing hot tier reads as not ready.
  const status = () => (inflight ??= projection.status().finally(() => (inflight = null)));
  const safely = async () => status().catch(() => null);
  new Gauge({
    name: 'missive_hot_tier_ready',
    help: '1 when the hot tier has caught up with the log and serves history reads, else 0',
    registers,
    async collect() {
      this.set((await safely())?.ready ? 1 : 0);
    },
  });
  new Gauge({
    name: 'missive_hot_tier_checkpoint',
    help: 'Global position of the last event the hot projection applied (-1: no state)',
    registers,
    async collect() {
      const checkpoint = (await safely())?.checkpoint;
      this.set(checkpoint === null || checkpoint === undefined ? -1 : Number(checkpoint));
    },
  });
  new Gauge({
    name: 'missive_hot_tier_rebuilds',
    help: 'Times this process found the hot tier without state (new, flushed, restarted) and rebuilt it from the log',
    registers,
    async collect() {
      const found = await safely();
      if (found) this.set(found.rebuilds);
    },
  });
}
