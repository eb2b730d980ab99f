/**
 * Next.js App Router adapter for the Fusion Orchestrator: route handlers for a catch-all route that
 * call `fusion.handle` directly (Next already speaks `Request` and `Response`).
 *
 * ```ts
 * // app/api/[...fusion]/route.ts
 * import { createNextRouteHandlers } from '@fusionkit/next';
 * import { fusion } from '@/lib/fusion'; // one orchestrator per process, see the guide
 *
 * export const runtime = 'nodejs';
 * export const dynamic = 'force-dynamic';
 * export const { GET, POST, DELETE, OPTIONS } = createNextRouteHandlers(fusion, { basePath: '/api' });
 * ```
 *
 * @module
 */
export {
  createNextRouteHandlers,
  type FusionLike,
  type NextRouteHandler,
  type NextRouteHandlers,
  type NextRouteHandlersOptions,
} from './create-next-route-handlers.js';
