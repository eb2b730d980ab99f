import type { FinishReason, Usage } from '@fusionkit/core';
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { keyIdOf } from '../key-scoped-rag-store.js';
import type { McpFusion } from '../mcp-fusion.js';
import { ProgressReporter } from '../progress-reporter.js';
import { errorResult, structuredResult } from '../tool-results.js';
import { chatRequestOf, conversationShape, hasTurn, NO_TURN, usageSchema } from './chat-input.js';
import { logCall, type ToolContext } from './tool-context.js';

const input = z
  .object({
    model: z.string().min(1).max(256).describe('A model id or pipeline name, as list_models shows them.'),
    ...conversationShape,
  })
  .refine(hasTurn, NO_TURN);

const output = z.object({
  model: z.string(),
  content: z.string(),
  finish_reason: z.string().nullable(),
  usage: usageSchema.optional(),
});

/**
 * `chat`: one answer from any model or pipeline the orchestrator serves. With a progress token it
 * streams, and reports every few chunks the text received since the last report.
 */
export function registerChatTool(server: McpServer, fusion: McpFusion, context: ToolContext): void {
  server.registerTool(
    'chat',
    {
      title: 'Chat with a model',
      description:
        'Answers a prompt with one of the models or fusion pipelines the orchestrator serves (see list_models).',
      inputSchema: input,
      outputSchema: output,
      annotations: {
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
    },
    async (args, ctx) => {
      const signal = context.signal(ctx);
      const apiKeyId = keyIdOf(ctx);
      const request = chatRequestOf(args.model, args);
      const progress = new ProgressReporter(ctx);
      await logCall(ctx, 'debug', { event: 'chat:start', model: request.model, streamed: progress.wanted });
      try {
        if (!progress.wanted) {
          const result = await fusion.chat(request, { signal, apiKeyId });
          const choice = result.choices[0];
          await logCall(ctx, 'info', {
            event: 'chat:end',
            model: result.model,
            finish_reason: choice?.finish_reason ?? null,
            ...(result.usage ? { usage: pickUsage(result.usage) } : {}),
          });
          return structuredResult(
            {
              model: result.model,
              content: choice?.message.content ?? '',
              finish_reason: choice?.finish_reason ?? null,
              ...(result.usage ? { usage: pickUsage(result.usage) } : {}),
            },
            choice?.message.content ?? '',
          );
        }
        let text = '';
        let pending = '';
        let pieces = 0;
        let finish: FinishReason | null = null;
        let usage: Usage | undefined;
        for await (const chunk of fusion.stream(request, { signal, apiKeyId })) {
          const choice = chunk.choices[0];
          if (chunk.usage) usage = chunk.usage;
          if (choice?.finish_reason) finish = choice.finish_reason;
          const delta = choice?.delta.content ?? '';
          if (!delta) continue;
          text += delta;
          pending += delta;
          pieces++;
          if (pieces === 1 || pieces % context.progressEveryChunks === 0) {
            await progress.report(text.length, pending);
            pending = '';
          }
        }
        if (pending) await progress.report(text.length, pending);
        await logCall(ctx, 'info', {
          event: 'chat:end',
          model: request.model,
          finish_reason: finish,
          ...(usage ? { usage: pickUsage(usage) } : {}),
        });
        return structuredResult(
          {
            model: request.model,
            content: text,
            finish_reason: finish,
            ...(usage ? { usage: pickUsage(usage) } : {}),
          },
          text,
        );
      } catch (error) {
        const result = errorResult(error);
        const [first] = result.content;
        await logCall(ctx, 'error', {
          event: 'chat:error',
          model: request.model,
          message: first?.type === 'text' ? first.text : '',
        });
        return result;
      }
    },
  );
}

export function pickUsage(usage: Usage): z.infer<typeof usageSchema> {
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.total_tokens,
  };
}
