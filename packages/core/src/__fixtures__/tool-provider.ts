import type { CallOptions } from '../spec/call-options.js';
import type { ChatChunk } from '../spec/chat/chat-chunk.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { ChatResult, Usage } from '../spec/chat/chat-result.js';
import type { ProviderV1 } from '../spec/provider/v1/provider-v1.js';

/**
 * A provider whose model `agent` calls the first tool it is offered (arguments `{"city":"Paris"}`)
 * until the conversation holds a tool result, then answers `reply` (with `reasoning` first, when
 * given). Streams word by word, the tool call's arguments in two pieces. Records every request.
 */
export function createToolProvider(
  options: { id?: string; reply?: string; reasoning?: string; delayMs?: number } = {},
): ProviderV1 & { requests: ChatRequest[] } {
  const reply = options.reply ?? 'It is 18 degrees in Paris.';
  const requests: ChatRequest[] = [];
  const usage = (request: ChatRequest, completion: number): Usage => {
    const prompt = request.messages.length * 5;
    return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  };
  const wantsCall = (request: ChatRequest) =>
    Boolean(request.tools?.length) && !request.messages.some((message) => message.role === 'tool');
  const pause = (signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      if (!options.delayMs) return resolve();
      const timer = setTimeout(resolve, options.delayMs);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(signal.reason);
        },
        { once: true },
      );
    });
  return {
    specificationVersion: 'v1',
    id: options.id ?? 'tools',
    requests,
    async models() {
      return [{ id: 'agent', capabilities: { chat: true, tools: true } }];
    },
    async doChat(request: ChatRequest, callOptions: CallOptions): Promise<ChatResult> {
      requests.push(request);
      await pause(callOptions.signal);
      const base = { id: 'chatcmpl-1', object: 'chat.completion' as const, created: 1, model: request.model };
      if (wantsCall(request)) {
        const name = request.tools![0]!.function.name;
        return {
          ...base,
          choices: [
            {
              index: 0,
              message: {
                role: 'assistant',
                content: null,
                tool_calls: [
                  { id: 'call_1', type: 'function', function: { name, arguments: '{"city":"Paris"}' } },
                ],
              },
              finish_reason: 'tool_calls',
            },
          ],
          usage: usage(request, 7),
        };
      }
      return {
        ...base,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: reply,
              ...(options.reasoning ? { reasoning_content: options.reasoning } : {}),
            },
            finish_reason: 'stop',
          },
        ],
        usage: usage(request, reply.split(' ').length),
      };
    },
    async *doStream(request: ChatRequest, callOptions: CallOptions): AsyncIterable<ChatChunk> {
      requests.push(request);
      const chunk = (
        delta: ChatChunk['choices'][number]['delta'],
        finish: 'stop' | 'tool_calls' | null = null,
      ) => ({
        id: 'chatcmpl-1',
        object: 'chat.completion.chunk' as const,
        created: 1,
        model: request.model,
        choices: [{ index: 0, delta, finish_reason: finish }],
      });
      yield chunk({ role: 'assistant' });
      if (wantsCall(request)) {
        const name = request.tools![0]!.function.name;
        yield chunk({
          tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name, arguments: '' } }],
        });
        yield chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] });
        yield chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] });
        yield { ...chunk({}, 'tool_calls'), usage: usage(request, 7) };
        return;
      }
      if (options.reasoning) yield chunk({ reasoning_content: options.reasoning });
      const words = reply.match(/\s*\S+/g) ?? [];
      for (const word of words) {
        await pause(callOptions.signal);
        yield chunk({ content: word });
      }
      yield { ...chunk({}, 'stop'), usage: usage(request, words.length) };
    },
  };
}
