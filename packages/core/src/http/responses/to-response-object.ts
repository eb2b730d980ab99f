import type { ChatResult, FinishReason, Usage } from '../../spec/chat/chat-result.js';
import type { ResponseRequest } from './parse-response-request.js';
import type { OutputItem, ResponseObject, ResponseUsage } from './response-types.js';

/** Fields of a chat result that the response object says in its own way. */
const CHAT_FIELDS = new Set(['id', 'object', 'created', 'model', 'choices', 'usage', 'system_fingerprint']);

/** A new id with OpenAI's prefix for its kind: `resp_…`, `msg_…`, `fc_…`, `rs_…`. */
export function itemId(prefix: string): string {
  return `${prefix}_${globalThis.crypto.randomUUID().replaceAll('-', '')}`;
}

/** The response object of a request before any output: what `response.created` and a queued job show. */
export function responseSkeleton(
  request: ResponseRequest,
  id: string,
  status: ResponseObject['status'],
): ResponseObject {
  return {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status,
    completed_at: null,
    background: request.background === true,
    error: null,
    incomplete_details: null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    model: request.model,
    output: [],
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: request.previous_response_id ?? null,
    reasoning: { effort: request.reasoning?.effort ?? null, summary: request.reasoning?.summary ?? null },
    store: request.store !== false,
    temperature: request.temperature ?? null,
    text: { format: request.text?.format ?? { type: 'text' } },
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    top_p: request.top_p ?? null,
    truncation: request.truncation ?? 'disabled',
    usage: null,
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  };
}

/** Chat usage in the Responses shape. */
export function toResponseUsage(usage: Usage | undefined | null): ResponseUsage | null {
  if (!usage) return null;
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage.total_tokens,
  };
}

/** The final status a chat answer's finish reason means, and why it is incomplete. */
export function finishOf(
  reason: FinishReason | null | undefined,
): Pick<ResponseObject, 'status' | 'incomplete_details'> {
  if (reason === 'length')
    return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (reason === 'content_filter')
    return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

/** The output items of a chat answer: reasoning, the message, then one item per tool call. */
export function toOutputItems(result: ChatResult): OutputItem[] {
  const choice = result.choices[0];
  if (!choice) return [];
  const { message } = choice;
  const status = choice.finish_reason === 'length' ? 'incomplete' : 'completed';
  const output: OutputItem[] = [];
  if (message.reasoning_content) {
    output.push({
      type: 'reasoning',
      id: itemId('rs'),
      summary: [],
      content: [{ type: 'reasoning_text', text: message.reasoning_content }],
    });
  }
  if (message.content) {
    output.push({
      type: 'message',
      id: itemId('msg'),
      status,
      role: 'assistant',
      content: [{ type: 'output_text', text: message.content, annotations: [], logprobs: [] }],
    });
  }
  for (const call of message.tool_calls ?? []) {
    output.push({
      type: 'function_call',
      id: itemId('fc'),
      call_id: call.id,
      name: call.function.name,
      arguments: call.function.arguments,
      status: 'completed',
    });
  }
  return output;
}

/** The finished response object of a chat answer. Extra fields (citations, fusion) pass through. */
export function toResponseObject(skeleton: ResponseObject, result: ChatResult): ResponseObject {
  const response: ResponseObject = {
    ...skeleton,
    ...finishOf(result.choices[0]?.finish_reason),
    completed_at: Math.floor(Date.now() / 1000),
    output: toOutputItems(result),
    usage: toResponseUsage(result.usage),
  };
  for (const [key, value] of Object.entries(result)) {
    if (!CHAT_FIELDS.has(key) && !(key in response)) response[key] = value;
  }
  return response;
}
