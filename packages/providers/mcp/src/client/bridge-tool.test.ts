import { describe, expect, it } from 'vitest';
import { bridgedToolName, resultText } from './bridge-tool.js';

describe('bridgedToolName', () => {
  it('prefixes the server and keeps names OpenAI accepts', () => {
    expect(bridgedToolName('fs', 'read_text_file')).toBe('fs__read_text_file');
    expect(bridgedToolName('web', 'fetch.page/v2')).toBe('web__fetch_page_v2');
  });

  it('cuts long names to 64 characters and keeps them apart', () => {
    const one = bridgedToolName('server', 'a'.repeat(80));
    const two = bridgedToolName('server', `${'a'.repeat(79)}b`);
    expect(one).toHaveLength(64);
    expect(two).toHaveLength(64);
    expect(one).not.toBe(two);
    expect(one).toMatch(/^[\w-]+$/);
  });
});

describe('resultText', () => {
  it('joins text blocks and describes the others', () => {
    expect(
      resultText({
        content: [
          { type: 'text', text: 'one' },
          { type: 'image', data: 'AAAA', mimeType: 'image/png' },
          { type: 'resource', resource: { uri: 'file:///a.txt', text: 'inline' } },
          { type: 'resource_link', uri: 'file:///b.txt', name: 'b' },
        ],
      }),
    ).toBe('one\n[image image/png]\ninline\n[resource file:///b.txt]');
  });

  it('falls back to the structured content', () => {
    expect(resultText({ content: [], structuredContent: { ok: true } })).toBe('{"ok":true}');
  });
});
