import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Tests run with the "source" condition, and Vitest hands it to Node for external packages too. The
 * MCP client SDK's `eventsource` and `eventsource-parser` export "source" as well (TypeScript that
 * Node cannot load): the SDK is processed by Vite instead, and those two resolve to their builds.
 */
const built = (path: string) => fileURLToPath(new URL(`./node_modules/${path}`, import.meta.url));
const builtPackages = [
  { find: /^eventsource$/, replacement: built('eventsource/dist/index.js') },
  { find: /^eventsource-parser$/, replacement: built('eventsource-parser/dist/index.js') },
  { find: /^eventsource-parser\/stream$/, replacement: built('eventsource-parser/dist/stream.js') },
];

export default defineConfig({
  resolve: { conditions: ['source'], alias: builtPackages },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: ['packages/**/src/**/*.test.ts', 'test/**/*.test.ts', 'examples/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    server: { deps: { inline: [/@modelcontextprotocol\/client/, /eventsource/] } },
    // Skipped tests hide missing coverage in CI: `CI=true` makes any `.skip`/`.todo` fail the run.
    allowOnly: false,
    reporters: process.env.CI ? ['default', './scripts/no-skipped-reporter.ts'] : ['default'],
    passWithNoTests: false,
    typecheck: { enabled: true, include: ['packages/**/src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
