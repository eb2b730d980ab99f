import type { FusionTrace, PipelineDefinition } from '@fusionkit/core';
import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { keyIdOf } from '../key-scoped-rag-store.js';
import type { McpFusion } from '../mcp-fusion.js';
import { ProgressReporter } from '../progress-reporter.js';
import { errorResult, structuredResult } from '../tool-results.js';
import { chatRequestOf, conversationShape, hasTurn, NO_TURN, usageSchema } from './chat-input.js';
import { pickUsage } from './chat-tool.js';
import type { ToolContext } from './tool-context.js';

function inputOf(strategies: [string, ...string[]]) {
  return z
    .object({
      targets: z
        .array(
          z.union([
            z.string().min(1),
            z.object({ model: z.string().min(1), weight: z.number().positive().optional() }),
          ]),
        )
        .min(1)
        .max(32)
        .describe('The models to combine: ids or aliases, or { model, weight }.'),
      strategy: z.enum(strategies).describe('How to combine them.'),
      options: z
        .record(z.string(), z.unknown())
        .optional()
        .describe('Options of the strategy, e.g. { "samples": 5 } for vote.'),
      router: z
        .string()
        .min(1)
        .optional()
        .describe('A router name; the targets are used in order without one.'),
      limits: z
        .object({
          maxCalls: z.number().int().positive().max(256).optional(),
          maxTokens: z.number().int().positive().optional(),
          timeoutMs: z.number().int().positive().optional(),
        })
        .optional()
        .describe('Caps on the work of this fused answer.'),
      ...conversationShape,
    })
    .refine(hasTurn, NO_TURN);
}

const output = z.object({
  content: z.string(),
  strategy: z.string(),
  finish_reason: z.string().nullable(),
  trace_id: z.string().optional(),
  partial: z.boolean().optional(),
  usage: usageSchema.optional(),
  calls: z.array(
    z.object({
      target: z.string(),
      role: z.string().optional(),
      outcome: z.string(),
      total_ms: z.number().optional(),
    }),
  ),
});

/**
 * `fuse`: one answer from several models combined by a strategy given inline (the MCP face of
 * `POST /api/fusion/chat`). Progress reports each finished model call when the orchestrator's event
 * bus is available.
 */
export function registerFuseTool(server: McpServer, fusion: McpFusion, context: ToolContext): void {
  const strategies = [...fusion.strategies.keys()] as [string, ...string[]];
  if (strategies.length === 0) return;
  server.registerTool(
    'fuse',
    {
      title: 'Fuse several models',
      description: `Answers a prompt with several models combined by a strategy (${strategies.join(', ')}): fallback, racing, voting, best-of-n with a judge, mixture of agents.`,
      inputSchema: inputOf(strategies),
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
      const progress = new ProgressReporter(ctx);
      const definition: PipelineDefinition = {
        name: 'fusion/mcp',
        strategy: args.strategy,
        targets: args.targets.map((target) =>
          typeof target === 'string'
            ? target
            : { model: target.model, ...(target.weight ? { weight: target.weight } : {}) },
        ),
      };
      if (args.options) definition.options = args.options;
      if (args.router) definition.router = args.router;
      if (args.limits) definition.limits = args.limits;
      let trace: FusionTrace | undefined;
      let finished = 0;
      const requestId = `mcp-${globalThis.crypto.randomUUID()}`;
      const unsubscribe =
        progress.wanted && fusion.events
          ? fusion.events.on('provider:call:end', (event) => {
              if (event.requestId !== requestId) return;
              finished++;
              void progress.report(finished, `${event.model} answered`);
            })
          : undefined;
      try {
        const pipeline = fusion.inlinePipeline(definition);
        const result = await fusion.runPipeline(pipeline, chatRequestOf(pipeline.name, args), {
          signal,
          requestId,
          apiKeyId: keyIdOf(ctx),
          onTrace: (started) => {
            trace = started;
          },
        });
        const choice = result.choices[0];
        return structuredResult(
          {
            content: choice?.message.content ?? '',
            strategy: args.strategy,
            finish_reason: choice?.finish_reason ?? null,
            ...(trace ? { trace_id: trace.id } : {}),
            ...(trace?.partial ? { partial: true } : {}),
            ...(result.usage ? { usage: pickUsage(result.usage) } : {}),
            calls: (trace?.calls ?? []).map((call) => ({
              target: call.target,
              ...(call.role ? { role: call.role } : {}),
              outcome: call.outcome,
              ...(call.totalMs === undefined ? {} : { total_ms: Math.round(call.totalMs) }),
            })),
          },
          choice?.message.content ?? '',
        );
      } catch (error) {
        return errorResult(error);
      } finally {
        unsubscribe?.();
      }
    },
  );
}
