import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';
import { describe, expect, it } from 'vitest';
import { TiktokenCounter } from './tiktoken-counter.js';

const texts = [
  'Hello world',
  '<|endoftext|> looks special but is text',
  'internationalization café ☕ 日本語のテキスト',
  'x'.repeat(120),
  "   spaces\n\n\ttabs 12345678 don't WON'T",
  'Ünïcödé ümläuts and emoji 👨‍👩‍👧‍👦 ok',
  readFileSync(new URL('../../README.md', import.meta.url), 'utf8'),
];

describe('TiktokenCounter', () => {
  it("counts exactly as js-tiktoken's encoder, loaded at once or in slices", async () => {
    const ranks = createRequire(import.meta.url)('js-tiktoken/ranks/gpt2') as TiktokenBPE;
    const reference = new Tiktoken(ranks);
    const atOnce = TiktokenCounter.fromRanks(ranks);
    const sliced = await TiktokenCounter.load('gpt2');
    for (const text of texts) {
      const expected = reference.encode(text, [], []).length;
      expect([atOnce.count(text), sliced.count(text)]).toEqual([expected, expected]);
    }
  }, 60_000);

  it('yields to the event loop while its table loads: other work runs between slices', async () => {
    const events: string[] = [];
    let turns = 0;
    let loading = true;
    const tick = () => {
      if (!loading) return;
      turns++;
      if (turns === 1) events.push('other work ran');
      setImmediate(tick);
    };
    const load = TiktokenCounter.load('r50k_base').then((counter) => {
      loading = false;
      events.push('loaded');
      return counter;
    });
    setImmediate(tick);
    const counter = await load;
    expect(events).toEqual(['other work ran', 'loaded']);
    // 50k tokens in slices of 1000: the loop turned many times during the load.
    expect(turns).toBeGreaterThan(10);
    expect(counter.count('Hello world')).toBe(2);
  }, 60_000);
});
