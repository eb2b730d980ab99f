/**
 * node:http adapter for the Fusion Orchestrator: serves `fusion.handle` (a Fetch-shaped handler) on
 * node:http with a streamed, size-limited request body, an abort signal that fires when the client
 * goes away, and responses written with backpressure.
 *
 * ```ts
 * import { serve } from '@fusionkit/node';
 * const { url } = await serve(fusion, { port: 8080 }); // SIGTERM/SIGINT: graceful shutdown
 * ```
 *
 * or mount it on a server you own:
 *
 * ```ts
 * import { createServer } from 'node:http';
 * import { createNodeHandler } from '@fusionkit/node';
 * createServer(createNodeHandler(fusion)).listen(8080);
 * ```
 *
 * `toRequest` and `writeResponse`, for sibling adapters, live under `@fusionkit/node/internal`.
 *
 * @module
 */
export { createNodeHandler, type NodeHandler, type NodeHandlerOptions } from './create-node-handler.js';
export type { DrainLimits } from './drain-request.js';
export type { FusionLike } from './fusion-like.js';
export { type ListenInfo, type NodeServer, type ServeOptions, serve } from './serve.js';
