/** Starts the app: its own routes, and the orchestrator under /ai. */
import { createFusion } from '@fusionkit/core';
import { createOpenAICompatible } from '@fusionkit/openai';
import { createApp } from './app.js';

const fusion = createFusion({
  providers: [
    createOpenAICompatible({ id: 'lab', baseURL: process.env.UPSTREAM_URL ?? 'http://127.0.0.1:8000/v1' }),
  ],
});

const server = createApp(fusion).listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : process.env.PORT;
  console.log(`App listening on http://127.0.0.1:${port} (OpenAI-compatible API under /ai/v1)`);
});

// Stop taking connections, let running answers finish, then exit.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeIdleConnections();
    fusion.close({ timeoutMs: 10_000 }).then(() => process.exit(0));
  });
}
