// Wall-clock milliseconds with sub-millisecond resolution, comparable across the bench's processes on
// one machine (each process's timeOrigin is taken from the same system clock).
import { performance } from 'node:perf_hooks';

export const wallMs = (): number => performance.timeOrigin + performance.now();
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
