import { defineConfig } from 'vitest/config';

// The fault suite (npm run test:faults, also run by .ci/run): real `missive serve` children crashed at
// failpoints and killed, a dedicated PostgreSQL and Redis stopped under load. Slow, so outside `npm test`;
// one file at a time, since each runs several service processes on the 2-core CI machine.
export default defineConfig({
  test: {
    include: ['test/faults/**/*.faults.spec.ts'],
    globalSetup: ['test/support/globalSetup.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
  },
});
