import type { ModelListEntry } from '@fusionkit/core';
import {
  completable,
  type GetPromptResult,
  type McpServer,
  ProtocolError,
  ProtocolErrorCode,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { keyIdOf, keyOptionsOf, keyScopedRagStore } from './key-scoped-rag-store.js';
import type { McpFusion, RagStoreLike } from './mcp-fusion.js';
import { documentUri } from './register-resources.js';

/** Completion values returned at most (the spec's limit per answer). */
const MAX_COMPLETIONS = 100;

function startingWith(values: readonly string[], prefix: string): string[] {
  const lower = prefix.toLowerCase();
  return values.filter((value) => value.toLowerCase().startsWith(lower)).slice(0, MAX_COMPLETIONS);
}

function isChatModel(model: ModelListEntry): boolean {
  return model.type !== 'embeddings';
}

/**
 * A fused answer as prompt messages: the question, then the answer the model or pipeline gave, so a
 * client can put a pipeline's answer into its own conversation.
 */
async function answerMessages(
  fusion: McpFusion,
  model: string,
  question: string,
  signal: AbortSignal,
  apiKeyId: string | undefined,
): Promise<GetPromptResult> {
  const result = await fusion.chat(
    { model, messages: [{ role: 'user', content: question }] },
    { signal, apiKeyId },
  );
  const answer = result.choices[0]?.message.content;
  return {
    description: `${model} answered`,
    messages: [
      { role: 'user', content: { type: 'text', text: question } },
      { role: 'assistant', content: { type: 'text', text: typeof answer === 'string' ? answer : '' } },
    ],
  };
}

/**
 * Prompts over the models: `ask` (any chat model or pipeline, the `model` argument completed from the
 * names served) and one prompt per pipeline (`fusion/moa`, `rag/docs`, …), each answering `question`
 * with that model or pipeline.
 */
export function registerModelPrompts(
  server: McpServer,
  fusion: McpFusion,
  served: readonly ModelListEntry[],
  signalOf: (signal: AbortSignal) => AbortSignal,
): void {
  const models = served.filter(isChatModel);
  if (models.length === 0) return;
  const names = models.map((model) => model.id);
  server.registerPrompt(
    'ask',
    {
      title: 'Ask a model',
      description: 'The answer of one model or fusion pipeline to a question, as prompt messages.',
      argsSchema: z.object({
        model: completable(z.string().describe('A model or pipeline, as list_models shows them.'), (value) =>
          startingWith(names, value ?? ''),
        ),
        question: z.string().describe('What to ask.'),
      }),
    },
    async ({ model, question }, context) => {
      if (!names.includes(model)) {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `Unknown model '${model}': see list_models.`,
        );
      }
      return answerMessages(fusion, model, question, signalOf(context.mcpReq.signal), keyIdOf(context));
    },
  );
  for (const pipeline of models.filter((model) => model.type === 'pipeline')) {
    server.registerPrompt(
      pipeline.id,
      {
        title: pipeline.id,
        description: pipeline.description ?? `The answer of the pipeline ${pipeline.id}.`,
        argsSchema: z.object({ question: z.string().describe('What to ask.') }),
      },
      async ({ question }, context) =>
        answerMessages(fusion, pipeline.id, question, signalOf(context.mcpReq.signal), keyIdOf(context)),
    );
  }
}

/**
 * `rag_context`: the best chunks of a collection for a query, as embedded resources (their
 * `fusion://rag/...` document URIs) followed by the question, ready for a client's model. The
 * `collection` argument is completed from the collections of the store.
 */
export function registerRagPrompts(
  server: McpServer,
  store: RagStoreLike,
  signalOf: (signal: AbortSignal) => AbortSignal,
): void {
  server.registerPrompt(
    'rag_context',
    {
      title: 'Question with document context',
      description: 'The best chunks of a document collection for a question, then the question.',
      argsSchema: z.object({
        // A completion does not say which key asks: it offers only the collections of no key.
        collection: completable(z.string().describe('A document collection.'), async (value) =>
          startingWith(
            (await store.listCollections())
              .filter((info) => (info as { owner?: unknown }).owner == null)
              .map((info) => info.name),
            value ?? '',
          ),
        ),
        question: z.string().describe('What to answer from the documents.'),
      }),
    },
    async ({ collection: name, question }, context) => {
      const collection = await keyScopedRagStore(store, keyIdOf(context))
        .getCollection(name)
        .catch(() => {
          throw new ProtocolError(ProtocolErrorCode.InvalidParams, `No collection '${name}'.`);
        });
      const hits = await collection.search({
        query: question,
        k: 5,
        signal: signalOf(context.mcpReq.signal),
        ...keyOptionsOf(context),
      });
      const result: GetPromptResult = {
        description: `${hits.length} passages of '${name}' for the question`,
        messages: [
          ...hits.map((hit) => ({
            role: 'user' as const,
            content: {
              type: 'resource' as const,
              resource: { uri: documentUri(name, hit.documentId), mimeType: 'text/plain', text: hit.text },
            },
          })),
          {
            role: 'user',
            content: {
              type: 'text',
              text: hits.length
                ? `Answer from the passages above, citing them: ${question}`
                : `No passage of '${name}' matches; say so, then answer if you can: ${question}`,
            },
          },
        ],
      };
      return result;
    },
  );
}
