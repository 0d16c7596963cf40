import { defineConfig } from 'vitest/config';

// Four projects: fast hermetic unit tests, integration tests with real processes (QEMU, loopback servers),
// which run one file at a time on this 2-core machine, the lab (test/lab/, docs/lab.md), and `real`: media
// builds and complete installs beyond CI's budget (`npm run test:real`; `npm test` leaves it out).
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'agent/**/*.test.ts', 'controller/**/*.test.ts'] } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
      {
        // The lab (DESIGN §8 tier 3): an emulated server boots per file, so one file at a time, after the others
        // (groupOrder 1) so it does not share the 2 cores with them; steps have generous timeouts under TCG.
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts'],
          poolOptions: { forks: { singleFork: true } },
          sequence: { groupOrder: 1 },
          testTimeout: 900_000,
          hookTimeout: 900_000,
        },
      },
      {
        test: {
          name: 'real',
          include: ['test/real/**/*.test.ts'],
          poolOptions: { forks: { singleFork: true } },
          sequence: { groupOrder: 2 },
          testTimeout: 3_600_000,
          hookTimeout: 3_600_000,
        },
      },
    ],
  },
});
