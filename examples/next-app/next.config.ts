import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // The orchestrator runs on Node (its provider pools node:http connections): load it from
  // node_modules at run time instead of bundling it.
  serverExternalPackages: ['@fusionkit/core', '@fusionkit/openai', '@fusionkit/next', '@fusionkit/mcp'],
};

export default nextConfig;
