import { defineConfig } from 'vitest/config';

// One runner for the whole repository (STYLE.md 2.9). Unit projects run in parallel; the e2e
// project starts real processes and runs serially so they do not compete for the two cores.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'shared', include: ['shared/test/**/*.test.ts'] } },
      { test: { name: 'coordinator', include: ['coordinator/test/**/*.test.ts'] } },
      { test: { name: 'share-node', include: ['share-node/test/**/*.test.ts'] } },
      { test: { name: 'deploy', include: ['deploy/test/**/*.test.ts'] } },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          pool: 'forks',
          maxWorkers: 1,
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
