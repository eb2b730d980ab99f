/**
 * An in-process provider whose models answer after a set delay: a function of the request (so a
 * bench can make the same request slow for the same replica every run) or a number. It counts the
 * calls each model received and honours the call's signal, as a real provider must.
 */

/** Resolves after `ms`; rejects with the signal's reason as soon as it aborts. */
function sleep(ms, signal) {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

const USAGE = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 };

/**
 * @param {{ id: string, models: Record<string, number | ((request: object) => number)>, reply?: string }} options
 */
export function createDelayProvider(options) {
  const reply = options.reply ?? 'The answer is 42.';
  const calls = new Map(Object.keys(options.models).map((model) => [model, 0]));
  const delayOf = (request) => {
    const delay = options.models[request.model];
    return typeof delay === 'function' ? delay(request) : delay;
  };
  const result = (request) => ({
    id: `chatcmpl-${request.model}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: request.model,
    choices: [{ index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop' }],
    usage: USAGE,
  });
  return {
    specificationVersion: 'v1',
    id: options.id,
    /** Calls received, by model id (without the provider prefix). */
    calls,
    totalCalls: () => [...calls.values()].reduce((sum, count) => sum + count, 0),
    resetCalls: () => {
      for (const model of calls.keys()) calls.set(model, 0);
    },
    async models() {
      return Object.keys(options.models).map((id) => ({ id, context_length: 32_768 }));
    },
    async doChat(request, callOptions) {
      calls.set(request.model, (calls.get(request.model) ?? 0) + 1);
      await sleep(delayOf(request), callOptions.signal);
      return result(request);
    },
    async *doStream(request, callOptions) {
      calls.set(request.model, (calls.get(request.model) ?? 0) + 1);
      await sleep(delayOf(request), callOptions.signal);
      const base = {
        id: `chatcmpl-${request.model}`,
        object: 'chat.completion.chunk',
        created: 0,
        model: request.model,
      };
      yield {
        ...base,
        choices: [{ index: 0, delta: { role: 'assistant', content: reply }, finish_reason: null }],
      };
      yield { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }], usage: USAGE };
    },
  };
}
