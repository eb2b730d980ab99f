import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Workspace packages resolve to their TypeScript sources in tests (a condition of our own, so that no
  // dependency publishing a "source" condition is picked up by mistake).
  resolve: { conditions: ['@fusionkit/source'] },
  ssr: { resolve: { conditions: ['@fusionkit/source'] } },
  test: {
    include: ['packages/**/src/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Skipped tests hide missing coverage in CI: `CI=true` makes any `.skip`/`.todo` fail the run.
    allowOnly: false,
    reporters: process.env.CI ? ['default', './scripts/no-skipped-reporter.ts'] : ['default'],
    passWithNoTests: false,
    typecheck: { enabled: true, include: ['packages/**/src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
