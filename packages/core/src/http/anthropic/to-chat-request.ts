import { z } from 'zod';
import { InvalidRequestError } from '../../errors/invalid-request-error.js';
import type {
  AssistantMessage,
  ChatMessage,
  ContentPart,
  TextContentPart,
  ToolCall,
} from '../../spec/chat/chat-message.js';
import type { ChatRequest, ToolChoice, ToolDefinition } from '../../spec/chat/chat-request.js';
import { toInvalidRequest } from '../../validation/zod-error.js';

/**
 * Top-level fields of an Anthropic Messages request that are translated. `service_tier`,
 * `context_management` (server-side clearing of old tool results, which Claude Code always sends) and
 * `cache_control` marks are hints with nothing to do here and are accepted as such; any other field
 * (`mcp_servers`, `container`…) gets a 400 naming it, since no chat model can honour it.
 */
const messagesSchema = z.strictObject({
  model: z.string().min(1, 'is required'),
  max_tokens: z.number().int().positive(),
  messages: z
    .array(
      z.looseObject({
        role: z.enum(['user', 'assistant']),
        content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]),
      }),
    )
    .min(1, 'must hold at least one message'),
  system: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]).optional(),
  stop_sequences: z.array(z.string()).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  tools: z.array(z.looseObject({ name: z.string().min(1) })).optional(),
  tool_choice: z
    .looseObject({
      type: z.enum(['auto', 'any', 'tool', 'none']),
      name: z.string().min(1).optional(),
      disable_parallel_tool_use: z.boolean().optional(),
    })
    .optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
  thinking: z
    .looseObject({ type: z.enum(['enabled', 'disabled', 'adaptive']), budget_tokens: z.number().optional() })
    .optional(),
  service_tier: z.string().optional(),
  context_management: z.unknown().optional(),
});

/** The body of `POST /v1/messages/count_tokens`: a Messages request without `max_tokens` or `stream`. */
const countTokensSchema = messagesSchema
  .omit({
    max_tokens: true,
    stream: true,
    stop_sequences: true,
    service_tier: true,
    context_management: true,
  })
  .extend({ max_tokens: z.number().int().positive().optional() });

type MessagesBody = z.infer<typeof messagesSchema>;
type Block = { type: string; [key: string]: unknown };

function untranslatable(param: string, what: string): InvalidRequestError {
  return new InvalidRequestError(`'${param}': ${what} cannot be translated for a chat model.`, {
    param,
  });
}

function invalid(param: string, message: string): InvalidRequestError {
  return new InvalidRequestError(`Invalid messages request: '${param}': ${message}`, { param });
}

function parseBody<TSchema extends z.ZodType>(schema: TSchema, input: unknown): z.infer<TSchema> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidRequestError('The request body must be a JSON object.');
  }
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    const prefix = issue.path.length > 0 ? `${issue.path.join('.')}.` : '';
    throw untranslatable(`${prefix}${key}`, `the field '${key}'`);
  }
  throw toInvalidRequest(parsed.error, 'messages request');
}

/** The text of a `text` block, checked. */
function textOf(block: Block, param: string): string {
  if (typeof block.text !== 'string') throw invalid(`${param}.text`, 'must be a string');
  return block.text;
}

/** An `image` block as an OpenAI image part (base64 as a `data:` URI). */
function imagePart(block: Block, param: string): ContentPart {
  const source = block.source as Record<string, unknown> | undefined;
  if (source?.type === 'base64' && typeof source.media_type === 'string' && typeof source.data === 'string') {
    return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } };
  }
  if (source?.type === 'url' && typeof source.url === 'string' && source.url !== '') {
    return { type: 'image_url', image_url: { url: source.url } };
  }
  throw untranslatable(`${param}.source`, 'an image source other than base64 or url');
}

/** The text of a `tool_result`'s content (a string or text blocks); images cannot go in a tool message. */
function toolResultText(block: Block, param: string): string {
  const content = block.content;
  let text: string;
  if (content === undefined || content === null) text = '';
  else if (typeof content === 'string') text = content;
  else if (Array.isArray(content)) {
    text = content
      .map((item: Block, index) => {
        const itemParam = `${param}.content[${index}]`;
        if (item?.type !== 'text')
          throw untranslatable(`${itemParam}.type`, `a '${String(item?.type)}' block in a tool result`);
        return textOf(item, itemParam);
      })
      .join('\n');
  } else throw invalid(`${param}.content`, 'must be a string or an array of blocks');
  // A chat tool message has no error flag: the failure is said in its text.
  return block.is_error === true ? `Error: ${text}` : text;
}

/** One user message: its `tool_result` blocks become tool messages, the other blocks user messages, in order. */
function userMessages(content: string | Block[], param: string): ChatMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const messages: ChatMessage[] = [];
  let parts: ContentPart[] = [];
  const flush = () => {
    if (parts.length === 0) return;
    messages.push({ role: 'user', content: parts });
    parts = [];
  };
  content.forEach((block, index) => {
    const blockParam = `${param}[${index}]`;
    switch (block.type) {
      case 'text':
        parts.push({ type: 'text', text: textOf(block, blockParam) });
        break;
      case 'image':
        parts.push(imagePart(block, blockParam));
        break;
      case 'tool_result':
        if (typeof block.tool_use_id !== 'string' || block.tool_use_id === '') {
          throw invalid(`${blockParam}.tool_use_id`, 'is required');
        }
        flush();
        messages.push({
          role: 'tool',
          tool_call_id: block.tool_use_id,
          content: toolResultText(block, blockParam),
        });
        break;
      default:
        throw untranslatable(`${blockParam}.type`, `a '${block.type}' block`);
    }
  });
  flush();
  if (messages.length === 0) throw invalid(param, 'must hold at least one block');
  return messages;
}

/** One assistant message: text, `tool_use` blocks as tool calls, `thinking` as reasoning. */
function assistantMessage(content: string | Block[], param: string): AssistantMessage {
  if (typeof content === 'string') return { role: 'assistant', content };
  const texts: TextContentPart[] = [];
  const calls: ToolCall[] = [];
  let reasoning: string | undefined;
  content.forEach((block, index) => {
    const blockParam = `${param}[${index}]`;
    switch (block.type) {
      case 'text':
        texts.push({ type: 'text', text: textOf(block, blockParam) });
        break;
      case 'tool_use': {
        if (typeof block.id !== 'string' || block.id === '') throw invalid(`${blockParam}.id`, 'is required');
        if (typeof block.name !== 'string' || block.name === '')
          throw invalid(`${blockParam}.name`, 'is required');
        const input = block.input;
        if (typeof input !== 'object' || input === null || Array.isArray(input)) {
          throw invalid(`${blockParam}.input`, 'must be an object');
        }
        calls.push({
          id: block.id,
          type: 'function',
          function: { name: block.name, arguments: JSON.stringify(input) },
        });
        break;
      }
      case 'thinking':
        if (typeof block.thinking !== 'string') throw invalid(`${blockParam}.thinking`, 'must be a string');
        reasoning = (reasoning ?? '') + block.thinking;
        break;
      default:
        throw untranslatable(`${blockParam}.type`, `a '${block.type}' block`);
    }
  });
  const message: AssistantMessage = {
    role: 'assistant',
    content: texts.length === 0 ? null : texts.length === 1 ? texts[0]!.text : texts,
  };
  if (calls.length > 0) message.tool_calls = calls;
  if (reasoning !== undefined) message.reasoning_content = reasoning;
  return message;
}

function systemMessage(system: string | Block[]): ChatMessage | undefined {
  if (typeof system === 'string') return system === '' ? undefined : { role: 'system', content: system };
  const texts = system.map((block, index) => {
    if (block.type !== 'text') throw untranslatable(`system[${index}].type`, `a '${block.type}' block`);
    return textOf(block, `system[${index}]`);
  });
  return texts.length === 0 ? undefined : { role: 'system', content: texts.join('\n\n') };
}

function toolDefinitions(tools: { name: string; [key: string]: unknown }[]): ToolDefinition[] {
  return tools.map((tool, index) => {
    const param = `tools[${index}]`;
    if (tool.type !== undefined && tool.type !== 'custom') {
      throw untranslatable(`${param}.type`, `the server tool '${String(tool.type)}'`);
    }
    const schema = tool.input_schema;
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
      throw invalid(`${param}.input_schema`, 'must be a JSON Schema object');
    }
    const definition: ToolDefinition = {
      type: 'function',
      function: { name: tool.name, parameters: schema as Record<string, unknown> },
    };
    if (typeof tool.description === 'string') definition.function.description = tool.description;
    return definition;
  });
}

function toolChoiceOf(choice: NonNullable<MessagesBody['tool_choice']>): ToolChoice {
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    default:
      if (!choice.name) throw invalid('tool_choice.name', "is required when 'type' is 'tool'");
      return { type: 'function', function: { name: choice.name } };
  }
}

/** The chat request a checked Messages body means. */
function translate(
  body: Omit<MessagesBody, 'max_tokens'> & { max_tokens?: number | undefined },
): ChatRequest {
  const messages: ChatMessage[] = [];
  if (body.system !== undefined) {
    const system = systemMessage(body.system as string | Block[]);
    if (system) messages.push(system);
  }
  body.messages.forEach((message, index) => {
    const param = `messages[${index}].content`;
    const content = message.content as string | Block[];
    if (message.role === 'user') messages.push(...userMessages(content, param));
    else messages.push(assistantMessage(content, param));
  });
  const chat: ChatRequest = { model: body.model, messages };
  if (body.max_tokens !== undefined) chat.max_tokens = body.max_tokens;
  if (body.stop_sequences?.length) chat.stop = body.stop_sequences;
  if (body.temperature !== undefined) chat.temperature = body.temperature;
  if (body.top_p !== undefined) chat.top_p = body.top_p;
  if (body.top_k !== undefined) chat.top_k = body.top_k;
  if (body.tools?.length) chat.tools = toolDefinitions(body.tools);
  if (body.tool_choice) {
    chat.tool_choice = toolChoiceOf(body.tool_choice);
    if (body.tool_choice.disable_parallel_tool_use === true) chat.parallel_tool_calls = false;
  }
  if (typeof body.metadata?.user_id === 'string') chat.user = body.metadata.user_id;
  // Thinking models behind mlx-openai-server (Qwen3 and the like) switch it in their chat template.
  if (body.thinking) chat.chat_template_kwargs = { enable_thinking: body.thinking.type !== 'disabled' };
  return chat;
}

/**
 * Checks an Anthropic Messages request and translates it into a chat request: `system` first,
 * `tool_result` blocks as tool messages, `tool_use` blocks as tool calls, `thinking` as reasoning,
 * images as image parts. Anything without a faithful translation is a 400 naming the field.
 */
export function toChatRequest(input: unknown): ChatRequest & { stream?: boolean } {
  const body = parseBody(messagesSchema, input);
  const chat = translate(body);
  if (body.stream === true) chat.stream = true;
  return chat;
}

/** The chat request a `count_tokens` body means (no `max_tokens` needed). */
export function toCountTokensRequest(input: unknown): ChatRequest {
  return translate(parseBody(countTokensSchema, input));
}
