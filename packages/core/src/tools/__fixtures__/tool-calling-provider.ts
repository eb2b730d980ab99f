import type { ChatChunk } from '../../spec/chat/chat-chunk.js';
import type { ChatRequest } from '../../spec/chat/chat-request.js';
import type { ChatResult } from '../../spec/chat/chat-result.js';
import type { ProviderV1 } from '../../spec/provider/v1/provider-v1.js';

/** What the fake model does for one request: write text, call tools, or both. */
export interface ScriptedTurn {
  content?: string;
  toolCalls?: { name: string; arguments: string }[];
}

export interface ToolCallingProvider extends ProviderV1 {
  /** Every request the model received, in order. */
  readonly requests: ChatRequest[];
}

/**
 * A deterministic model that decides by a function of the request: it answers with tool calls the
 * way OpenAI-compatible servers do (`finish_reason: 'tool_calls'`; streamed as fragments: id and
 * name first, then the arguments in two pieces).
 */
export function createToolCallingProvider(
  decide: (request: ChatRequest) => ScriptedTurn,
  options: { id?: string; model?: string } = {},
): ToolCallingProvider {
  const requests: ChatRequest[] = [];
  const model = options.model ?? 'tools';
  let calls = 0;
  const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
  return {
    specificationVersion: 'v1',
    id: options.id ?? 'fake',
    requests,
    async models() {
      return [{ id: model, capabilities: { tools: true } }];
    },
    async doChat(request): Promise<ChatResult> {
      requests.push(request);
      const turn = decide(request);
      calls++;
      const toolCalls = (turn.toolCalls ?? []).map((call, index) => ({
        id: `call_${calls}_${index}`,
        type: 'function' as const,
        function: call,
      }));
      return {
        id: `chatcmpl-${calls}`,
        object: 'chat.completion',
        created: 1,
        model: request.model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: turn.content ?? null,
              ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
            },
            finish_reason: toolCalls.length ? 'tool_calls' : 'stop',
          },
        ],
        usage,
      };
    },
    async *doStream(request): AsyncGenerator<ChatChunk> {
      requests.push(request);
      const turn = decide(request);
      calls++;
      const base = {
        id: `chatcmpl-${calls}`,
        object: 'chat.completion.chunk' as const,
        created: calls,
        model: request.model,
      };
      const chunk = (
        delta: ChatChunk['choices'][number]['delta'],
        finish: ChatChunk['choices'][number]['finish_reason'] = null,
      ) => ({
        ...base,
        choices: [{ index: 0, delta, finish_reason: finish }],
      });
      yield chunk({ role: 'assistant' });
      for (const word of turn.content?.match(/\s*\S+/g) ?? []) yield chunk({ content: word });
      for (const [index, call] of (turn.toolCalls ?? []).entries()) {
        const half = Math.floor(call.arguments.length / 2);
        yield chunk({
          tool_calls: [
            {
              index,
              id: `call_${calls}_${index}`,
              type: 'function',
              function: { name: call.name, arguments: '' },
            },
          ],
        });
        yield chunk({ tool_calls: [{ index, function: { arguments: call.arguments.slice(0, half) } }] });
        yield chunk({ tool_calls: [{ index, function: { arguments: call.arguments.slice(half) } }] });
      }
      yield { ...chunk({}, turn.toolCalls?.length ? 'tool_calls' : 'stop'), usage };
    },
  };
}

/** The `tool` messages of a request, in order. */
export function toolMessages(request: ChatRequest): string[] {
  return request.messages.flatMap((message) =>
    message.role === 'tool' && typeof message.content === 'string' ? [message.content] : [],
  );
}
