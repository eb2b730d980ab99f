import { InvalidRequestError } from '../../errors/invalid-request-error.js';
import type {
  AssistantMessage,
  ChatMessage,
  ContentPart,
  TextContentPart,
  ToolCall,
} from '../../spec/chat/chat-message.js';
import type {
  ChatRequest,
  ResponseFormat,
  ToolChoice,
  ToolDefinition,
} from '../../spec/chat/chat-request.js';
import { formatParam } from '../../validation/zod-error.js';
import { functionTool, type ResponseRequest } from './parse-response-request.js';
import type { InputItem } from './response-types.js';

/** Request fields that go to the chat request under the same name. */
const SAME_NAME = [
  'temperature',
  'top_p',
  'parallel_tool_calls',
  'user',
  'top_k',
  'min_p',
  'repetition_penalty',
  'frequency_penalty',
  'presence_penalty',
  'seed',
  'stop',
  'chat_template_kwargs',
] as const;

/**
 * The chat request that carries out a Responses request: `instructions` first (as a system
 * message), then the items of the earlier responses (`history`), then `input`. Anything that chat
 * completions cannot express faithfully (built-in tools, files, item references) is a 400 naming
 * the field.
 */
export function toChatRequest(request: ResponseRequest, history: InputItem[] = []): ChatRequest {
  const messages: ChatMessage[] = [];
  if (request.instructions) messages.push({ role: 'system', content: request.instructions });
  // Items of earlier responses were checked when they were stored: their errors name the input too.
  appendItems(messages, history, 'input');
  appendItems(messages, request.input, 'input');
  if (messages.length === 0) {
    throw new InvalidRequestError("'input' must hold at least one message.", { param: 'input' });
  }
  const chat: ChatRequest = { model: request.model, messages };
  for (const field of SAME_NAME) if (request[field] !== undefined) chat[field] = request[field] as never;
  if (request.max_output_tokens !== undefined) chat.max_tokens = request.max_output_tokens;
  if (request.reasoning?.effort) chat.reasoning_effort = request.reasoning.effort;
  if (request.tools?.length) chat.tools = request.tools.map(toChatTool);
  if (request.tool_choice !== undefined) chat.tool_choice = toChatToolChoice(request.tool_choice);
  const format = request.text?.format;
  if (format && format.type !== 'text') chat.response_format = toResponseFormat(format);
  return chat;
}

function toChatTool(tool: Record<string, unknown>, index: number): ToolDefinition {
  if (tool.type !== 'function') {
    throw new InvalidRequestError(
      `Tools of type '${String(tool.type)}' run on OpenAI's servers and cannot be translated here; only 'function' tools are supported.`,
      { param: `tools[${index}].type` },
    );
  }
  const parsed = functionTool.safeParse(tool);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = formatParam(['tools', index, ...issue.path]);
    throw new InvalidRequestError(`Invalid response request: '${param}': ${issue.message}`, { param });
  }
  const { name, description, parameters, strict } = parsed.data;
  const definition: ToolDefinition['function'] = { name };
  if (description) definition.description = description;
  if (parameters) definition.parameters = parameters;
  if (typeof strict === 'boolean') definition.strict = strict;
  return { type: 'function', function: definition };
}

function toChatToolChoice(choice: NonNullable<ResponseRequest['tool_choice']>): ToolChoice {
  if (typeof choice === 'string') return choice;
  if (choice.type === 'function' && typeof choice.name === 'string' && choice.name) {
    return { type: 'function', function: { name: choice.name } };
  }
  throw new InvalidRequestError(
    "'tool_choice' must be 'none', 'auto', 'required' or { type: 'function', name }.",
    { param: 'tool_choice' },
  );
}

function toResponseFormat(format: Record<string, unknown> & { type: string }): ResponseFormat {
  if (format.type === 'json_object') return { type: 'json_object' };
  const schema: Extract<ResponseFormat, { type: 'json_schema' }>['json_schema'] = {
    name: format.name as string,
    schema: format.schema as Record<string, unknown>,
  };
  if (typeof format.description === 'string') schema.description = format.description;
  if (typeof format.strict === 'boolean') schema.strict = format.strict;
  return { type: 'json_schema', json_schema: schema };
}

/** Appends the chat messages of Responses items; consecutive calls join one assistant message. */
function appendItems(messages: ChatMessage[], items: InputItem[], field: string): void {
  /** Reasoning waits for the assistant message it belongs to. */
  let reasoning: string | undefined;
  const assistant = (): AssistantMessage => {
    const last = messages.at(-1);
    if (last?.role === 'assistant' && reasoning === undefined) return last;
    const message: AssistantMessage = { role: 'assistant', content: null };
    if (reasoning !== undefined) message.reasoning_content = reasoning;
    reasoning = undefined;
    messages.push(message);
    return message;
  };
  items.forEach((item, index) => {
    const param = `${field}[${index}]`;
    const type = item.type ?? 'message';
    switch (type) {
      case 'message': {
        const role = item.role;
        if (role === 'assistant') {
          const message = assistant();
          const text = assistantText(item.content, param);
          // A message after calls of the same turn starts a new assistant message.
          if (message.tool_calls?.length || (typeof message.content === 'string' && message.content)) {
            messages.push({ role: 'assistant', content: text });
          } else message.content = text;
          return;
        }
        if (role === 'user') {
          messages.push({ role: 'user', content: userContent(item.content, param) });
          return;
        }
        if (role === 'system' || role === 'developer') {
          messages.push({ role, content: textContent(item.content, param) });
          return;
        }
        throw new InvalidRequestError(
          `'${param}.role' must be 'user', 'assistant', 'system' or 'developer'.`,
          { param: `${param}.role` },
        );
      }
      case 'function_call': {
        const { call_id: callId, name, arguments: args } = item;
        if (typeof callId !== 'string' || !callId)
          throw new InvalidRequestError(`'${param}.call_id' is required.`, { param: `${param}.call_id` });
        if (typeof name !== 'string' || !name)
          throw new InvalidRequestError(`'${param}.name' is required.`, { param: `${param}.name` });
        if (typeof args !== 'string')
          throw new InvalidRequestError(`'${param}.arguments' must be a JSON string.`, {
            param: `${param}.arguments`,
          });
        const call: ToolCall = { id: callId, type: 'function', function: { name, arguments: args } };
        const message = assistant();
        message.tool_calls = [...(message.tool_calls ?? []), call];
        return;
      }
      case 'function_call_output': {
        const callId = item.call_id;
        if (typeof callId !== 'string' || !callId)
          throw new InvalidRequestError(`'${param}.call_id' is required.`, { param: `${param}.call_id` });
        messages.push({
          role: 'tool',
          tool_call_id: callId,
          content: textContent(item.output, `${param}.output`),
        });
        return;
      }
      case 'reasoning': {
        const parts = [
          ...(Array.isArray(item.content) ? item.content : []),
          ...(Array.isArray(item.summary) ? item.summary : []),
        ] as { text?: unknown }[];
        const text = parts
          .map((part) => (typeof part?.text === 'string' ? part.text : ''))
          .filter(Boolean)
          .join('\n');
        if (text) reasoning = reasoning === undefined ? text : `${reasoning}\n${text}`;
        return;
      }
      default:
        throw new InvalidRequestError(
          type === 'item_reference'
            ? `Item references cannot be resolved here; send the item itself, or chain with previous_response_id.`
            : `Input items of type '${type}' belong to tools that run on OpenAI's servers and cannot be translated here.`,
          { param: `${param}.type` },
        );
    }
  });
}

/** `content` of a user message: a string, or text and image parts. */
function userContent(content: unknown, param: string): string | ContentPart[] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content) || content.length === 0) {
    throw new InvalidRequestError(`'${param}.content' must be a string or a non-empty list of parts.`, {
      param: `${param}.content`,
    });
  }
  return content.map((part: Record<string, unknown>, index) => {
    const at = `${param}.content[${index}]`;
    if (part?.type === 'input_text' || part?.type === 'output_text') return textPart(part, at);
    if (part?.type === 'input_image') {
      if (typeof part.image_url !== 'string' || !part.image_url) {
        throw new InvalidRequestError(
          `'${at}.image_url' is required: images are sent by URL or data: URI (file ids are OpenAI's).`,
          { param: `${at}.image_url` },
        );
      }
      const detail = part.detail;
      return {
        type: 'image_url',
        image_url:
          detail === 'low' || detail === 'high' || detail === 'auto'
            ? { url: part.image_url, detail }
            : { url: part.image_url },
      };
    }
    throw new InvalidRequestError(
      `Content parts of type '${String(part?.type)}' cannot be translated here; send input_text or input_image.`,
      { param: `${at}.type` },
    );
  });
}

/** Text-only content (system messages, tool output). */
function textContent(content: unknown, param: string): string | TextContentPart[] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) {
    throw new InvalidRequestError(`'${param}' must be a string or a list of text parts.`, { param });
  }
  return content.map((part: Record<string, unknown>, index) => {
    const at = `${param}[${index}]`;
    if (part?.type === 'input_text' || part?.type === 'output_text') return textPart(part, at);
    throw new InvalidRequestError(`Only text parts can be translated here, not '${String(part?.type)}'.`, {
      param: `${at}.type`,
    });
  });
}

/** An assistant message's content as one string (output_text and refusal parts joined). */
function assistantText(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) {
    throw new InvalidRequestError(`'${param}.content' must be a string or a list of parts.`, {
      param: `${param}.content`,
    });
  }
  return content
    .map((part: Record<string, unknown>, index) => {
      if (part?.type === 'refusal' && typeof part.refusal === 'string') return part.refusal;
      return textPart(part, `${param}.content[${index}]`).text;
    })
    .join('');
}

function textPart(part: Record<string, unknown>, param: string): TextContentPart {
  if ((part?.type !== 'input_text' && part?.type !== 'output_text') || typeof part.text !== 'string') {
    throw new InvalidRequestError(`'${param}' must be a text part with 'text'.`, { param });
  }
  return { type: 'text', text: part.text };
}
