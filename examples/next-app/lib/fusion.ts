import { createFusion, type Fusion } from '@fusionkit/core';
import { mcpPlugin } from '@fusionkit/mcp';
import { createOpenAICompatible } from '@fusionkit/openai';

/**
 * One orchestrator per process. `next dev` evaluates this module again after every edit; keeping the
 * instance on `globalThis` stops each reload from creating another one (with its own connection pool
 * and health timer) while the old one still runs. In production the module is evaluated once anyway.
 */
const globalForFusion = globalThis as typeof globalThis & { fusion?: Fusion };

export const fusion: Fusion = (globalForFusion.fusion ??= createFusion({
  providers: [
    createOpenAICompatible({
      id: 'lab',
      // mlx-openai-server's default address; read at run time, not at build time.
      baseURL: process.env.UPSTREAM_URL ?? 'http://127.0.0.1:8000/v1',
    }),
  ],
  // The orchestrator as an MCP server too, at /api/mcp (the catch-all route serves it).
  plugins: [mcpPlugin({ fusion: () => globalForFusion.fusion })],
}));
