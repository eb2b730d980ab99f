import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countWords, writeTinyTokenizer } from '../__fixtures__/tiny-tokenizer.js';
import { countTokensWith, loadTokenizer, resolveTokenizer } from './named-tokenizer.js';
import { TokenSplitter } from './token-splitter.js';

let dir: string;
let model: string;
let file: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rag-tokenizer-'));
  model = join(dir, 'tiny-model');
  file = await writeTinyTokenizer(model);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const text = Array.from({ length: 60 }, (_, index) => `Fact ${index} is true, surely.`).join(' ');

describe('a local Hugging Face tokenizer.json', () => {
  it('counts tokens with the tokenizer, given the file or its folder', async () => {
    expect(countTokensWith(file)('Hello, world!')).toBe(4);
    expect(countTokensWith(model)('Fact 1 is true.')).toBe(5);
    const loaded = await loadTokenizer(model);
    expect(loaded.tokenizer).toBe(file);
    expect(loaded.countTokens(text)).toBe(countWords(text));
  });

  it('sizes token-splitter chunks in its tokens', () => {
    const chunks = new TokenSplitter({ tokenizer: model, chunkSize: 20, chunkOverlap: 0 }).split(text);
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) expect(countWords(chunk.text)).toBeLessThanOrEqual(20);
    expect(chunks.map((chunk) => chunk.text).join(' ')).toBe(text);
  });

  it('resolves a relative folder to the absolute tokenizer.json a collection records', async () => {
    expect(await resolveTokenizer('./tiny-model', { cwd: dir })).toBe(file);
    // A bare name that is no known tokenizer but a folder there.
    expect(await resolveTokenizer('tiny-model', { cwd: dir })).toBe(file);
    expect(await resolveTokenizer('./tiny-model/tokenizer.json', { cwd: dir })).toBe(file);
    expect(await resolveTokenizer('gpt-4o')).toBe('gpt-4o');
  });

  it('refuses a missing file, a folder without one, bad JSON and JSON that is no tokenizer: 400 naming the field', async () => {
    const param = 'splitter.tokenizer';
    const bad = join(dir, 'bad', 'tokenizer.json');
    await writeTinyTokenizer(join(dir, 'bad'));
    await writeFile(bad, '{"secret": "do not echo", ');
    const notTokenizer = join(dir, 'other.json');
    await writeFile(notTokenizer, '{"name": "a package"}');
    const cases: [string, string][] = [
      [join(dir, 'missing', 'tokenizer.json'), 'tokenizer_not_found'],
      [dir, 'tokenizer_not_found'],
      [bad, 'invalid_tokenizer'],
      [notTokenizer, 'invalid_tokenizer'],
    ];
    for (const [path, code] of cases) {
      const expected = expect.objectContaining({ status: 400, code, param });
      await expect(loadTokenizer(path, param)).rejects.toThrow(expected);
      expect(() => countTokensWith(path, param)).toThrow(expected);
    }
    await expect(loadTokenizer(bad, param)).rejects.toThrow(/not valid JSON/);
    await expect(loadTokenizer(bad, param)).rejects.not.toThrow(/do not echo/);
    await expect(resolveTokenizer('Qwen/Qwen2.5-0.5B', { param })).rejects.toThrow(
      /no model hub is contacted/,
    );
  });
});
