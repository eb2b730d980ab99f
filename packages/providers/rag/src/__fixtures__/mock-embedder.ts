import { createFusion } from '@fusionkit/core';
import { createMockProvider } from '@fusionkit/core/test';
import { createCachedEmbedder } from '../embedding/cached-embedder.js';

/**
 * An embedder over a real orchestrator whose mock provider embeds with a deterministic hash: what
 * the RAG plugin will wire (`fusion.embed`), without a model. `inputs` records every text embedded.
 */
export function createMockEmbedder(options: { dimensions?: number; model?: string } = {}) {
  const provider = createMockProvider({
    id: 'mock',
    models: [
      {
        id: options.model ?? 'embed',
        capabilities: { embeddings: true },
        dimensions: options.dimensions ?? 16,
      },
    ],
  });
  const fusion = createFusion({ providers: [provider] });
  const inputs: string[] = [];
  const model = `mock/${options.model ?? 'embed'}`;
  const embed = async (texts: string[], { signal }: { signal?: AbortSignal } = {}) => {
    inputs.push(...texts);
    const result = await fusion.embed({ model, input: texts }, signal ? { signal } : {});
    return result.data.map((item) => item.embedding);
  };
  const embedder = createCachedEmbedder({ model, embed, cache: false });
  return { embedder, embed, inputs, fusion, model };
}
