import { defineConfig } from 'vitest/config';

// One runner for the whole repository (STYLE.md 2.9). Unit projects run in parallel; the e2e
// project starts real processes and runs serially so they do not compete for the two cores.
// Deadlines are generous because scrypt at log_n 16 and the e2e processes share two cores.
const unit = (name: string) => ({ test: { name, include: [`${name}/test/**/*.test.ts`], testTimeout: 30_000 } });

export default defineConfig({
  test: {
    projects: [
      unit('shared'),
      unit('coordinator'),
      unit('share-node'),
      unit('deploy'),
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
      // Tier 2 (RELIABILITY.md "Time budget"): `pnpm chaos` only, so a plain `vitest run` (pnpm
      // test) never starts it. Serial real processes; the report is printed when the run ends.
      ...(process.env.FROSTBUNKER_CHAOS === '1'
        ? [
            {
              test: {
                name: 'chaos',
                include: ['test/chaos/**/*.test.ts'],
                globalSetup: ['test/chaos/report-setup.ts'],
                pool: 'forks' as const,
                maxWorkers: 1,
                fileParallelism: false,
                testTimeout: 300_000,
                hookTimeout: 120_000,
              },
            },
          ]
        : []),
    ],
  },
});
