import { describe, expect, it } from 'vitest';
import { qwen3TokenizerFiles } from '../testing/qwen3-tokenizer-fixture.js';
import { LLAMA3_TEMPLATE, MISTRAL_TEMPLATE } from '../testing/tiny-chat-templates.js';
import { tinyTokenizerFor } from '../testing/tiny-model.js';
import { ChatTemplate, type PromptMessage } from './chat-template.js';
import { TextTokenizer } from './text-tokenizer.js';

const tools = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather of a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];

const toolConversation: PromptMessage[] = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Weather in Paris?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
    ],
  },
  { role: 'tool', tool_call_id: 'call_1', content: '{"temperature": 21}' },
];

describe('Qwen3 (real tokenizer.json and chat template)', () => {
  const files = qwen3TokenizerFiles();
  const tokenizer = new TextTokenizer(files.tokenizer, files.config);
  const template = new ChatTemplate(files.config.chat_template as string, undefined, {
    eos_token: '<|im_end|>',
  });

  it('renders tools, tool calls and tool results the way Qwen3 expects', () => {
    const prompt = template.render(toolConversation, { tools });
    expect(prompt).toContain('<tools>\n{"type": "function", "function": {"name": "get_weather"');
    expect(prompt).toContain(
      '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
    );
    expect(prompt).toContain(
      '<|im_start|>user\n<tool_response>\n{"temperature": 21}\n</tool_response><|im_end|>',
    );
    expect(prompt.endsWith('<|im_start|>assistant\n')).toBe(true);
  });

  it('passes enable_thinking to the template', () => {
    const messages: PromptMessage[] = [{ role: 'user', content: 'Hi' }];
    expect(template.render(messages, { kwargs: { enable_thinking: false } })).toMatch(
      /<\|im_start\|>assistant\n<think>\n\n<\/think>\n\n$/,
    );
    expect(template.render(messages)).toMatch(/<\|im_start\|>assistant\n$/);
  });

  it('encodes special tokens once, as single ids', () => {
    const prompt = template.render([{ role: 'user', content: 'Hi ü 你好' }], {
      kwargs: { enable_thinking: false },
    });
    const ids = tokenizer.encodePrompt(prompt);
    const imStart = tokenizer.idOf('<|im_start|>')!;
    expect(ids[0]).toBe(imStart);
    expect(ids.filter((id) => id === imStart)).toHaveLength(2);
    expect(tokenizer.decode(ids)).toBe(prompt);
  });
});

describe('BOS handling', () => {
  it('does not add a second BOS when the template wrote one (Llama 3)', () => {
    const tiny = tinyTokenizerFor('llama');
    const tokenizer = new TextTokenizer(tiny.tokenizer, {
      bos_token: '<|begin_of_text|>',
      eos_token: '<|eot_id|>',
    });
    const template = new ChatTemplate(LLAMA3_TEMPLATE, undefined, { bos_token: '<|begin_of_text|>' });
    const prompt = template.render([{ role: 'user', content: 'Hello' }]);
    const ids = tokenizer.encodePrompt(prompt);
    const bos = tiny.ids['<|begin_of_text|>']!;
    expect(ids.filter((id) => id === bos)).toEqual([bos]);
    expect(ids[0]).toBe(bos);
    // Plain text still gets the tokenizer's BOS.
    expect(tokenizer.encodePrompt('Hello')[0]).toBe(bos);
  });

  it('keeps one BOS for a SentencePiece-style tokenizer (Mistral)', () => {
    const tiny = tinyTokenizerFor('mistral');
    const tokenizer = new TextTokenizer(tiny.tokenizer, { bos_token: '<s>', eos_token: '</s>' });
    const template = new ChatTemplate(MISTRAL_TEMPLATE, undefined, { bos_token: '<s>', eos_token: '</s>' });
    const prompt = template.render([{ role: 'user', content: 'Hello' }], { tools });
    const ids = tokenizer.encodePrompt(prompt);
    expect(ids.filter((id) => id === tiny.ids['<s>'])).toHaveLength(1);
    expect(prompt).toContain('[AVAILABLE_TOOLS] [{"type": "function"');
  });

  it('turns text parts, developer messages and string arguments into what templates read', () => {
    const template = new ChatTemplate(
      '{% for m in messages %}{{ m.role }}:{{ m.content }}{% if m.tool_calls %}{{ m.tool_calls[0].function.arguments.city }}{% endif %};{% endfor %}',
      undefined,
      {},
    );
    const prompt = template.render(
      [
        { role: 'developer', content: [{ type: 'text', text: 'Be brief.' }] },
        {
          role: 'assistant',
          content: '',
          tool_calls: [{ function: { name: 'f', arguments: '{"city":"Oslo"}' } }],
        },
      ],
      { addGenerationPrompt: false },
    );
    expect(prompt).toBe('system:Be brief.;assistant:Oslo;');
  });
});
