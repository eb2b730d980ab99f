import { InvalidRequestError } from '../errors/invalid-request-error.js';
import { toFusionError } from '../errors/to-fusion-error.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { PluginApi } from '../spec/plugin/v1/plugin-v1.js';
import { parseChatRequest } from '../validation/chat-request-schema.js';
import type { JobHandler } from './job.js';

/** Input of a `chat.batch` job. */
export interface ChatBatchInput {
  /** Chat requests (not streamed), answered in order. */
  requests: ChatRequest[];
}

/** One answer of a `chat.batch` job: the chat completion, or why that request failed. */
export interface ChatBatchItem {
  index: number;
  response?: unknown;
  error?: { message: string; type: string; code: string | null; param: string | null };
}

/** How many requests one batch job may hold. */
const MAX_REQUESTS = 1000;

/**
 * The `chat.batch` kind: chat requests answered one after another, each answer saved as a
 * checkpoint, so that a job resumed after a crash asks only what was not answered yet. A request
 * that fails is recorded with its error; the batch goes on (as OpenAI's Batch API does).
 */
export function chatBatchJob(chat: PluginApi['chat']): JobHandler<ChatBatchInput, { data: ChatBatchItem[] }> {
  return {
    validate(input) {
      const requests = (input as { requests?: unknown } | undefined)?.requests;
      if (!Array.isArray(requests) || requests.length === 0 || requests.length > MAX_REQUESTS) {
        throw new InvalidRequestError(`input.requests must hold 1 to ${MAX_REQUESTS} chat requests.`, {
          param: 'input.requests',
        });
      }
      return {
        requests: requests.map((request, index) => {
          try {
            const parsed = parseChatRequest(request);
            if (parsed.stream) throw new InvalidRequestError('A batch request cannot stream.');
            return parsed;
          } catch (error) {
            const fusionError = toFusionError(error);
            throw new InvalidRequestError(`input.requests[${index}]: ${fusionError.message}`, {
              param: `input.requests[${index}]${fusionError.param ? `.${fusionError.param}` : ''}`,
            });
          }
        }),
      };
    },
    async run(input, context) {
      const data = [...((context.saved as { data?: ChatBatchItem[] } | undefined)?.data ?? [])];
      const total = input.requests.length;
      for (let index = data.length; index < total; index++) {
        context.signal.throwIfAborted();
        try {
          const response = await chat(input.requests[index]!, { signal: context.signal });
          data.push({ index, response });
        } catch (error) {
          if (context.signal.aborted) throw error;
          data.push({ index, error: toFusionError(error).toJSON().error });
        }
        await context.checkpoint({ data });
        context.progress({ done: data.length, total });
      }
      return { data };
    },
  };
}
