import { z } from 'zod';
import { InvalidRequestError } from '../../errors/invalid-request-error.js';
import { toInvalidRequest } from '../../validation/zod-error.js';
import type { InputItem } from './response-types.js';

/** Fields of a Responses request that the orchestrator cannot carry out; a 400 names them. */
const UNTRANSLATABLE: Record<string, string> = {
  prompt: 'Reusable prompts are stored at OpenAI; send `instructions` and `input` instead.',
  conversation: 'The Conversations API is not served; chain responses with `previous_response_id`.',
  max_tool_calls: 'Built-in tool calls are not run here, so they cannot be limited.',
  context_management: 'Server-side compaction is not done here.',
  moderation: 'Moderation runs at OpenAI; add a guardrail hook or middleware here instead.',
};

const functionTool = z.looseObject({
  type: z.literal('function'),
  name: z.string().regex(/^[\w-]{1,64}$/, 'must be 1-64 letters, digits, underscores or dashes'),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});

const textFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    name: z.string().min(1),
    schema: z.record(z.string(), z.unknown()),
    description: z.string().nullish(),
    strict: z.boolean().nullish(),
  }),
]);

const inputItem = z.looseObject({ type: z.string().optional() });

/** The schema of `POST /v1/responses`. Unknown fields are refused by name (see `parseResponseRequest`). */
const responseRequestSchema = z.strictObject({
  model: z.string().min(1, 'is required'),
  input: z.union([z.string(), z.array(inputItem)]),
  instructions: z.string().nullish(),
  tools: z.array(z.looseObject({ type: z.string() })).nullish(),
  tool_choice: z.union([z.enum(['none', 'auto', 'required']), z.looseObject({ type: z.string() })]).nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  text: z
    .looseObject({
      format: textFormat.nullish(),
      verbosity: z.enum(['medium']).nullish(),
    })
    .nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  store: z.boolean().nullish(),
  previous_response_id: z.string().min(1).nullish(),
  background: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_obfuscation: z.boolean().nullish() }).nullish(),
  metadata: z
    .record(z.string().max(64), z.string().max(512))
    .refine((value) => Object.keys(value).length <= 16, 'holds at most 16 keys')
    .nullish(),
  user: z.string().nullish(),
  safety_identifier: z.string().nullish(),
  prompt_cache_key: z.string().nullish(),
  prompt_cache_retention: z.string().nullish(),
  // Caching hints: a local server caches prompts by itself.
  prompt_cache_options: z.looseObject({}).nullish(),
  service_tier: z.string().nullish(),
  truncation: z.enum(['auto', 'disabled']).nullish(),
  reasoning: z
    .looseObject({
      effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']).nullish(),
      summary: z.enum(['auto', 'concise', 'detailed']).nullish(),
      generate_summary: z.enum(['auto', 'concise', 'detailed']).nullish(),
    })
    .nullish(),
  include: z.array(z.string()).nullish(),
  top_logprobs: z.literal(0).nullish(),
  // Extensions honoured by MLX and most local servers, as on /v1/chat/completions.
  top_k: z.number().int().min(-1).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  repetition_penalty: z.number().positive().nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(16)]).nullish(),
  chat_template_kwargs: z.record(z.string(), z.unknown()).nullish(),
});

/** A validated Responses request: `input` always a list of items, `null` fields dropped. */
export interface ResponseRequest {
  model: string;
  input: InputItem[];
  instructions?: string;
  tools?: Record<string, unknown>[];
  tool_choice?: 'none' | 'auto' | 'required' | Record<string, unknown>;
  parallel_tool_calls?: boolean;
  text?: { format?: Record<string, unknown> & { type: string }; verbosity?: string };
  max_output_tokens?: number;
  temperature?: number;
  top_p?: number;
  store?: boolean;
  previous_response_id?: string;
  background?: boolean;
  stream?: boolean;
  metadata?: Record<string, string>;
  user?: string;
  truncation?: 'auto' | 'disabled';
  reasoning?: { effort?: string; summary?: string };
  top_k?: number;
  min_p?: number;
  repetition_penalty?: number;
  frequency_penalty?: number;
  presence_penalty?: number;
  seed?: number;
  stop?: string | string[];
  chat_template_kwargs?: Record<string, unknown>;
  [field: string]: unknown;
}

/**
 * Validates a `POST /v1/responses` body. Throws a 400 naming the field: for malformed values, for
 * fields this API does not know (as OpenAI does), and for features that cannot be carried out here.
 */
export function parseResponseRequest(body: unknown): ResponseRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError('The request body must be a JSON object.');
  }
  for (const [field, why] of Object.entries(UNTRANSLATABLE)) {
    const value = (body as Record<string, unknown>)[field];
    if (value !== undefined && value !== null) {
      throw new InvalidRequestError(`'${field}' is not supported: ${why}`, { param: field });
    }
  }
  const parsed = responseRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue?.code === 'unrecognized_keys') {
      const field = issue.keys[0]!;
      throw new InvalidRequestError(`Unrecognized request argument supplied: '${field}'.`, { param: field });
    }
    throw toInvalidRequest(parsed.error, 'response request');
  }
  const request = parsed.data as Record<string, unknown>;
  for (const key of Object.keys(request)) if (request[key] === null) delete request[key];
  const { input } = request;
  request.input =
    typeof input === 'string' ? [{ type: 'message', role: 'user', content: input }] : (input as InputItem[]);
  if ((request.input as InputItem[]).length === 0 && request.previous_response_id === undefined) {
    throw new InvalidRequestError("'input' must hold at least one item.", { param: 'input' });
  }
  const response = request as ResponseRequest;
  if (response.background && response.store === false) {
    throw new InvalidRequestError('A background response must be stored: drop `store: false`.', {
      param: 'store',
    });
  }
  if (response.background && response.stream) {
    throw new InvalidRequestError(
      'A background response does not stream here: poll GET /v1/responses/{id}, or drop `background`.',
      { param: 'stream' },
    );
  }
  return response;
}

export { functionTool, textFormat };
