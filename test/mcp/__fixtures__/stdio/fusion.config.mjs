// The orchestrator `fusion mcp` serves in the stdio tests: one provider, written out here so the
// config needs no import. `slow` streams a word every 100 ms and says on stderr when it is aborted.
const words = (text) => text.match(/\s*\S+/g) ?? [];

function pause(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

const replies = {
  echo: (request) => `You said: ${request.messages.at(-1)?.content ?? ''}`,
  slow: () => 'one two three four five six seven eight nine ten eleven twelve',
};

const provider = {
  specificationVersion: 'v1',
  id: 'stub',
  async models() {
    return [{ id: 'echo' }, { id: 'slow' }];
  },
  async doChat(request) {
    const content = replies[request.model](request);
    return {
      id: 'chatcmpl-stub',
      object: 'chat.completion',
      created: 1,
      model: request.model,
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      usage: {
        prompt_tokens: 3,
        completion_tokens: words(content).length,
        total_tokens: 3 + words(content).length,
      },
    };
  },
  async *doStream(request, options) {
    options.signal.addEventListener('abort', () => process.stderr.write(`stub: aborted ${request.model}\n`), {
      once: true,
    });
    const base = { id: 'chatcmpl-stub', object: 'chat.completion.chunk', created: 1, model: request.model };
    yield { ...base, choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: null }] };
    for (const word of words(replies[request.model](request))) {
      if (request.model === 'slow') await pause(100, options.signal);
      yield { ...base, choices: [{ index: 0, delta: { content: word }, finish_reason: null }] };
    }
    yield { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] };
  },
};

export default { providers: [provider], healthIntervalMs: 0 };
