/**
 * The orchestrator on plain node:http: one OpenAI-compatible upstream (mlx-openai-server by default),
 * served at http://127.0.0.1:8080/v1 with graceful shutdown on Ctrl-C.
 */
import { createFusion } from '@fusionkit/core';
import { serve } from '@fusionkit/node';
import { createOpenAICompatible } from '@fusionkit/openai';

const fusion = createFusion({
  providers: [
    createOpenAICompatible({ id: 'lab', baseURL: process.env.UPSTREAM_URL ?? 'http://127.0.0.1:8000/v1' }),
  ],
});

const { url } = await serve(fusion, { port: Number(process.env.PORT ?? 8080) });
console.log(`OpenAI-compatible API listening on ${url}/v1`);
console.log(`Models: ${(await fusion.models()).map((model) => model.id).join(', ') || 'none yet'}`);
