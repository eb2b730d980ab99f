/**
 * Test doubles for plugin authors: `import { createMockProvider } from '@fusionkit/core/test'`.
 * @module
 */
export {
  createMockProvider,
  type MockModel,
  type MockProvider,
  type MockProviderOptions,
} from './mock-provider.js';
export { seededRandom } from './seeded-random.js';
