import type { ModelListEntry } from '@fusionkit/core';
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { McpFusion } from '../mcp-fusion.js';
import { errorResult, structuredResult } from '../tool-results.js';

const input = z.object({
  type: z
    .enum(['chat', 'embeddings', 'pipeline'])
    .optional()
    .describe('Only models of this type; pipelines are fusion and RAG compositions.'),
});

const modelSchema = z.object({
  id: z.string(),
  type: z.string(),
  owned_by: z.string(),
  description: z.string().optional(),
  status: z.string().optional(),
  context_length: z.number().optional(),
});

const output = z.object({ models: z.array(modelSchema) });

/** A model as the tool and the `fusion://models` resource show it. */
export function modelSummary(model: ModelListEntry): z.infer<typeof modelSchema> {
  return {
    id: model.id,
    type: model.type,
    owned_by: model.owned_by,
    ...(model.description ? { description: model.description } : {}),
    ...(model.status ? { status: model.status } : {}),
    ...(model.context_length === undefined ? {} : { context_length: model.context_length }),
  };
}

/** `list_models`: the models and pipelines the orchestrator serves, as `GET /v1/models` lists them. */
export function registerListModelsTool(server: McpServer, fusion: McpFusion): void {
  server.registerTool(
    'list_models',
    {
      title: 'List models',
      description:
        'Lists the models and fusion pipelines the orchestrator serves, with their type and status.',
      inputSchema: input,
      outputSchema: output,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async (args) => {
      try {
        const models = (await fusion.models())
          .filter((model) => !args.type || model.type === args.type)
          .map(modelSummary);
        return structuredResult(
          { models },
          models
            .map((model) => `${model.id} (${model.type}${model.status ? `, ${model.status}` : ''})`)
            .join('\n') || 'No models are served.',
        );
      } catch (error) {
        return errorResult(error);
      }
    },
  );
}
