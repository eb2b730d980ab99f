/**
 * One gateway of the HTTP observability bench, in its own process: `serve()` of @fusionkit/node over
 * an orchestrator with the OpenAI-compatible provider pointed at the mock upstream, with the
 * subscribers of `--variant` (none, metrics, metrics+spans, metrics+spans+logs). Reports its port
 * and CPU to the parent over IPC (child-ipc.mjs).
 */
import { createFusion } from '@fusionkit/core';
import { serve } from '@fusionkit/node';
import { attachFusionLogger, attachFusionTracing, createFusionMetrics } from '@fusionkit/observability';
import { createOpenAICompatible } from '@fusionkit/openai';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { argument, reportToParent } from '../gateway/child-ipc.mjs';

const variant = argument('variant', 'BENCH_VARIANT', 'none');
const upstream = argument('upstream', 'BENCH_UPSTREAM', '');
const fusion = createFusion({
  providers: [createOpenAICompatible({ id: 'bench', baseURL: `${upstream}/v1` })],
  healthIntervalMs: 0,
});
if (variant !== 'none') createFusionMetrics(fusion);
if (variant.includes('spans')) attachFusionTracing(fusion, { tracerProvider: new BasicTracerProvider() });
if (variant.includes('logs')) attachFusionLogger(fusion, { logger: pino({ level: 'info' }, { write() {} }) });
await fusion.ready;
const server = await serve(fusion, { port: 0, signals: false });
reportToParent(server.server, `gateway (${variant})`);
