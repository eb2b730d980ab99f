/**
 * Express adapter for the Fusion Orchestrator: `fusion.handle` as middleware, mountable under any
 * path, with or without `express.json()` before it. It only translates, through `@fusionkit/node`.
 *
 * ```ts
 * import express from 'express';
 * import { createExpressMiddleware } from '@fusionkit/express';
 *
 * const app = express();
 * app.use('/ai', createExpressMiddleware(fusion)); // OpenAI-compatible API at /ai/v1
 * app.listen(3000);
 * ```
 *
 * @module
 */
export type { FusionLike } from '@fusionkit/node';
export {
  createExpressMiddleware,
  type ExpressMiddleware,
  type ExpressMiddlewareOptions,
} from './create-express-middleware.js';
