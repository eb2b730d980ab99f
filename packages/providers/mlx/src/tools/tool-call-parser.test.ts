import { describe, expect, it } from 'vitest';
import { type ParsedPiece, ToolCallParser, type ToolCallParserOptions } from './tool-call-parser.js';

/** Feeds `text` in pieces of `size` characters and merges adjacent pieces of the same kind. */
function parse(options: ToolCallParserOptions, text: string, size = 1): ParsedPiece[] {
  const parser = new ToolCallParser(options);
  const out: ParsedPiece[] = [];
  for (let i = 0; i < text.length; i += size) out.push(...parser.push(text.slice(i, i + size)));
  out.push(...parser.finish());
  const merged: ParsedPiece[] = [];
  for (const piece of out) {
    const last = merged[merged.length - 1];
    if (last && last.type === piece.type && piece.type !== 'tool_call' && last.type !== 'tool_call') {
      last.text += piece.text;
    } else merged.push(piece.type === 'tool_call' ? piece : { ...piece });
  }
  return merged;
}

const weather = { name: 'get_weather', arguments: '{"city":"Paris"}' };

describe('ToolCallParser', () => {
  it.each([1, 3, 1000])('hermes (Qwen): content, then calls; fed %i characters at a time', (size) => {
    const text =
      'Let me check.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>';
    expect(parse({ format: 'hermes', reasoning: false }, text, size)).toEqual([
      { type: 'content', text: 'Let me check.\n' },
      { type: 'tool_call', call: weather },
      { type: 'tool_call', call: { name: 'get_time', arguments: '{}' } },
    ]);
  });

  it('hermes: a half marker is held back, and text that only looks like a marker stays content', () => {
    const parser = new ToolCallParser({ format: 'hermes', reasoning: false });
    expect(parser.push('a <tool_')).toEqual([{ type: 'content', text: 'a ' }]);
    expect(parser.push('box>')).toEqual([{ type: 'content', text: '<tool_box>' }]);
    expect(parse({ format: 'hermes', reasoning: false }, '<tool_call>not json</tool_call>')).toEqual([
      { type: 'content', text: '<tool_call>not json</tool_call>' },
    ]);
  });

  it('reasoning: a leading <think> block becomes reasoning, the blank lines after it are dropped', () => {
    expect(
      parse({ format: 'hermes', reasoning: true }, '<think>\nPlan it.\n</think>\n\nThe answer.', 2),
    ).toEqual([
      { type: 'reasoning', text: '\nPlan it.\n' },
      { type: 'content', text: 'The answer.' },
    ]);
    expect(parse({ format: undefined, reasoning: true }, 'No thinking here.')).toEqual([
      { type: 'content', text: 'No thinking here.' },
    ]);
  });

  it('llama3-json: a whole-answer JSON call (after <|python_tag|> or not), several with ;', () => {
    expect(
      parse(
        { format: 'llama3-json', reasoning: false },
        '{"name": "get_weather", "parameters": {"city": "Paris"}}',
      ),
    ).toEqual([{ type: 'tool_call', call: weather }]);
    expect(
      parse(
        { format: 'llama3-json', reasoning: false },
        '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}; {"name": "get_time", "parameters": {}}',
        4,
      ),
    ).toEqual([
      { type: 'tool_call', call: weather },
      { type: 'tool_call', call: { name: 'get_time', arguments: '{}' } },
    ]);
    expect(parse({ format: 'llama3-json', reasoning: false }, 'It is sunny {mostly}.', 3)).toEqual([
      { type: 'content', text: 'It is sunny {mostly}.' },
    ]);
    expect(parse({ format: 'llama3-json', reasoning: false }, '{not a call}')).toEqual([
      { type: 'content', text: '{not a call}' },
    ]);
  });

  it('mistral: [TOOL_CALLS] with a JSON array, or the name[ARGS] form', () => {
    expect(
      parse(
        { format: 'mistral', reasoning: false },
        '[TOOL_CALLS] [{"name": "get_weather", "arguments": {"city": "Paris"}}]',
        5,
      ),
    ).toEqual([{ type: 'tool_call', call: weather }]);
    expect(
      parse({ format: 'mistral', reasoning: false }, '[TOOL_CALLS]get_weather[ARGS]{"city":"Paris"}'),
    ).toEqual([{ type: 'tool_call', call: weather }]);
    expect(parse({ format: 'mistral', reasoning: false }, 'Plain [TOOL answer.', 2)).toEqual([
      { type: 'content', text: 'Plain [TOOL answer.' },
    ]);
  });

  it('without tools everything is content', () => {
    expect(parse({ format: undefined, reasoning: false }, '<tool_call>{"name": "x"}</tool_call>')).toEqual([
      { type: 'content', text: '<tool_call>{"name": "x"}</tool_call>' },
    ]);
  });
});
