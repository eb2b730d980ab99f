/**
 * The stack every fusion test runs against, all real and on port 0: a fault-injection upstream, the
 * OpenAI-compatible provider pointed at it, an orchestrator with pipelines, the node adapter serving
 * it, and the official `openai` client.
 */
import {
  createFusion,
  type Fusion,
  type FusionEventName,
  type FusionEvents,
  type FusionOptions,
} from '@fusionkit/core';
import { type NodeServer, serve } from '@fusionkit/node';
import { createOpenAICompatible, type OpenAICompatibleOptions } from '@fusionkit/openai';
import OpenAI from 'openai';
import {
  type FaultUpstream,
  type FaultUpstreamOptions,
  startFaultUpstream,
} from '../support/fault-upstream.js';

/** A pipeline as `createFusion({ pipelines })` takes it. */
export type Pipeline = NonNullable<FusionOptions['pipelines']>[number];

export interface FusionStack {
  upstream: FaultUpstream;
  fusion: Fusion;
  server: NodeServer;
  url: string;
  /** The official client, without retries of its own. */
  client: OpenAI;
  /** Every event of the given names, in order, since the stack started. */
  events: { name: FusionEventName; payload: FusionEvents[FusionEventName] }[];
  close(): Promise<void>;
}

export interface FusionStackOptions {
  upstream?: FaultUpstreamOptions;
  /** Everything of `createFusion` but the providers. */
  fusion?: Omit<FusionOptions, 'providers'>;
  /** Extra providers over the same upstream, e.g. `{ id: 'tight', maxEventBytes: 1 << 20 }`. */
  providers?: Omit<OpenAICompatibleOptions, 'baseURL'>[];
  /** Events to record in `events`. */
  record?: FusionEventName[];
}

/** The provider id of the upstream's models: `faults/steady`, `faults/flaky`, ... */
export const PROVIDER = 'faults';

export async function startFusionStack(options: FusionStackOptions = {}): Promise<FusionStack> {
  const upstream = await startFaultUpstream(options.upstream);
  const providers = [{ id: PROVIDER }, ...(options.providers ?? [])].map((provider) =>
    createOpenAICompatible({ ...provider, baseURL: upstream.baseURL }),
  );
  const fusion = createFusion({ healthIntervalMs: 0, ...options.fusion, providers });
  const events: FusionStack['events'] = [];
  for (const name of options.record ?? []) {
    fusion.events.on(name, (payload) => events.push({ name, payload }));
  }
  await fusion.ready;
  const server = await serve(fusion, { port: 0, signals: false, shutdownTimeoutMs: 1000 });
  const client = new OpenAI({
    baseURL: `${server.url}/v1`,
    apiKey: 'unused',
    maxRetries: 0,
    timeout: 15_000,
  });
  return {
    upstream,
    fusion,
    server,
    url: server.url,
    client,
    events,
    close: async () => {
      await server.close();
      await upstream.close();
    },
  };
}

/** The payloads of the recorded events of one name, optionally of one request. */
export function payloadsOf<TName extends FusionEventName>(
  stack: FusionStack,
  name: TName,
  requestId?: string,
): FusionEvents[TName][] {
  return stack.events
    .filter((event) => event.name === name)
    .map((event) => event.payload as FusionEvents[TName])
    .filter(
      (payload) => requestId === undefined || (payload as { requestId?: string }).requestId === requestId,
    );
}

/** `POST /v1/chat/completions` with fetch, so a test sees the raw status, headers and SSE body. */
export function postChat(
  url: string,
  body: Record<string, unknown>,
  init: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...init.headers },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'What is the answer?' }], ...body }),
    signal: init.signal ?? AbortSignal.timeout(15_000),
  });
}

/** The `data:` payloads of an SSE body, parsed (`[DONE]` kept as the string). */
export async function sseEvents(response: Response): Promise<unknown[]> {
  const text = await response.text();
  return text
    .split('\n\n')
    .map((event) => event.trim())
    .filter((event) => event.startsWith('data:'))
    .map((event) => {
      const data = event.slice('data:'.length).trim();
      return data === '[DONE]' ? data : (JSON.parse(data) as unknown);
    });
}

/** The text of streamed chunks. */
export function streamedText(events: readonly unknown[]): string {
  let text = '';
  for (const event of events) {
    const choices = (event as { choices?: { delta?: { content?: string } }[] }).choices;
    text += choices?.[0]?.delta?.content ?? '';
  }
  return text;
}

export const USER_MESSAGE = { role: 'user' as const, content: 'What is the answer?' };
