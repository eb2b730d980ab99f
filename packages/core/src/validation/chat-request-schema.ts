import { z } from 'zod';
import { InvalidRequestError } from '../errors/invalid-request-error.js';
import { UnsupportedError } from '../errors/unsupported-error.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import { toInvalidRequest } from './zod-error.js';

const textPart = z.looseObject({ type: z.literal('text'), text: z.string() });
const imagePart = z.looseObject({
  type: z.literal('image_url'),
  image_url: z.looseObject({ url: z.string().min(1), detail: z.enum(['auto', 'low', 'high']).optional() }),
});
const audioPart = z.looseObject({
  type: z.literal('input_audio'),
  input_audio: z.looseObject({ data: z.string(), format: z.enum(['wav', 'mp3']) }),
});
const contentPart = z.discriminatedUnion('type', [textPart, imagePart, audioPart]);

const toolCall = z.looseObject({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.looseObject({ name: z.string().min(1), arguments: z.string() }),
});

const message = z.discriminatedUnion('role', [
  z.looseObject({
    role: z.enum(['system', 'developer']),
    content: z.union([z.string(), z.array(textPart)]),
    name: z.string().optional(),
  }),
  z.looseObject({
    role: z.literal('user'),
    content: z.union([z.string(), z.array(contentPart).min(1)]),
    name: z.string().optional(),
  }),
  z.looseObject({
    role: z.literal('assistant'),
    content: z.union([z.string(), z.array(textPart), z.null()]).optional(),
    reasoning_content: z.string().nullish(),
    tool_calls: z.array(toolCall).optional(),
    name: z.string().optional(),
  }),
  z.looseObject({
    role: z.literal('tool'),
    content: z.union([z.string(), z.array(textPart)]),
    tool_call_id: z.string().min(1),
  }),
]);

const tool = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({
    name: z.string().regex(/^[\w-]{1,64}$/, 'must be 1-64 letters, digits, underscores or dashes'),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
});

const toolChoice = z.union([
  z.enum(['none', 'auto', 'required']),
  z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string().min(1) }) }),
]);

const responseFormat = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    json_schema: z.looseObject({
      name: z.string().min(1),
      description: z.string().optional(),
      schema: z.record(z.string(), z.unknown()).optional(),
      strict: z.boolean().nullish(),
    }),
  }),
]);

const tokenLimit = z.number().int().positive().nullish();

/** The schema of a chat completion request body. Unknown fields are kept. */
export const chatRequestSchema = z.looseObject({
  model: z.string().min(1, 'is required'),
  messages: z.array(message).min(1, 'must hold at least one message'),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: tokenLimit,
  max_completion_tokens: tokenLimit,
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  top_k: z.number().int().min(-1).nullish(),
  min_p: z.number().min(0).max(1).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  repetition_penalty: z.number().positive().nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(16)]).nullish(),
  n: z.number().int().positive().nullish(),
  tools: z.array(tool).nullish(),
  tool_choice: toolChoice.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: responseFormat.nullish(),
  user: z.string().nullish(),
  logit_bias: z.record(z.string(), z.number()).nullish(),
  chat_template_kwargs: z.record(z.string(), z.unknown()).nullish(),
});

/**
 * Validates a chat request and normalises it: `null` fields dropped, `stop` made an array,
 * `max_completion_tokens` copied into `max_tokens`. Throws 400 naming the field at fault.
 */
export function parseChatRequest(input: unknown): ChatRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidRequestError('The request body must be a JSON object.');
  }
  let request = plainChatRequest(input as Record<string, unknown>);
  if (request === undefined) {
    const parsed = chatRequestSchema.safeParse(input);
    if (!parsed.success) throw toInvalidRequest(parsed.error, 'chat request');
    request = parsed.data as Record<string, unknown>;
  }
  for (const key of Object.keys(request)) if (request[key] === null) delete request[key];
  const chat = request as ChatRequest;
  if (chat.n !== undefined && chat.n !== 1) {
    throw new UnsupportedError('Only n = 1 is supported; send several requests, or use a fusion pipeline.', {
      param: 'n',
    });
  }
  if (typeof chat.stop === 'string') chat.stop = [chat.stop];
  if (chat.max_completion_tokens !== undefined) chat.max_tokens = chat.max_completion_tokens;
  if (chat.tool_choice !== undefined && chat.tool_choice !== 'none' && !chat.tools?.length) {
    throw new InvalidRequestError("'tool_choice' needs 'tools'.", { param: 'tool_choice' });
  }
  return chat;
}

type Check = (value: unknown) => boolean;

const isFiniteNumber = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value);
const inRange =
  (min: number, max: number): Check =>
  (value) =>
    isFiniteNumber(value) && value >= min && value <= max;
const positiveInteger: Check = (value) => Number.isSafeInteger(value) && (value as number) > 0;

/**
 * The checks of {@link chatRequestSchema} for the top-level fields a plain request uses, each
 * accepting `null` too (the schema's `nullish`). A field not listed here but in the schema sends the
 * request through zod; one the schema does not know is kept as it is, as zod keeps it. No
 * prototype: a body's `constructor` or `toString` key is a field like any other.
 */
const PLAIN_FIELDS: Record<string, Check | undefined> = Object.assign(Object.create(null), {
  stream: (value) => typeof value === 'boolean',
  stream_options: (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    for (const key in value) if (key !== 'include_usage') return false;
    const include = (value as { include_usage?: unknown }).include_usage;
    return include === undefined || typeof include === 'boolean';
  },
  max_tokens: positiveInteger,
  max_completion_tokens: positiveInteger,
  n: positiveInteger,
  temperature: inRange(0, 2),
  top_p: inRange(0, 1),
  min_p: inRange(0, 1),
  top_k: (value) => Number.isSafeInteger(value) && (value as number) >= -1,
  frequency_penalty: inRange(-2, 2),
  presence_penalty: inRange(-2, 2),
  repetition_penalty: (value) => isFiniteNumber(value) && value > 0,
  seed: (value) => Number.isSafeInteger(value),
  stop: (value) =>
    typeof value === 'string' ||
    (Array.isArray(value) && value.length <= 16 && value.every((item) => typeof item === 'string')),
  user: (value) => typeof value === 'string',
  parallel_tool_calls: (value) => typeof value === 'boolean',
} satisfies Record<string, Check>);
const SCHEMA_FIELDS = new Set(Object.keys(chatRequestSchema.shape));
const PLAIN_ROLES = new Set(['system', 'developer', 'user', 'assistant']);

/**
 * What the schema would answer for the most common request (text messages of the four plain roles,
 * sampling parameters), checked by hand: zod's general validation of the same costs more than the
 * rest of the orchestrator's work on such a request. `undefined` for anything else (invalid,
 * multimodal, tools, formats…), which zod then validates and explains. Copies as zod does: the
 * caller's objects are not changed by the normalisation that follows.
 */
export function plainChatRequest(input: Record<string, unknown>): Record<string, unknown> | undefined {
  const model = input.model;
  const messages = input.messages;
  if (typeof model !== 'string' || model.length === 0) return undefined;
  if (!Array.isArray(messages) || messages.length === 0) return undefined;
  for (const key in input) {
    if (key === 'model' || key === 'messages') continue;
    // zod drops an own `__proto__` key: so does the schema's path.
    if (key === '__proto__') return undefined;
    const value = input[key];
    if (value === null || value === undefined) continue;
    const check = PLAIN_FIELDS[key];
    if (check === undefined ? SCHEMA_FIELDS.has(key) : !check(value)) return undefined;
  }
  const copies: Record<string, unknown>[] = new Array(messages.length);
  for (let index = 0; index < messages.length; index++) {
    const message = messages[index] as Record<string, unknown>;
    if (typeof message !== 'object' || message === null || Array.isArray(message)) return undefined;
    if (!PLAIN_ROLES.has(message.role as string) || typeof message.content !== 'string') return undefined;
    for (const key in message) {
      if (key === 'role' || key === 'content') continue;
      // `name` is the one other field these roles share; anything else goes through zod.
      if (key !== 'name' || (message.name !== undefined && typeof message.name !== 'string'))
        return undefined;
    }
    copies[index] = { ...message };
  }
  return { ...input, messages: copies };
}
