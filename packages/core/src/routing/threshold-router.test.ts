import { describe, expect, it } from 'vitest';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import { candidate, models, routeContext } from './__fixtures__/candidates.js';
import { calibrateThreshold } from './calibrate-threshold.js';
import { complexityScorer } from './complexity-scorer.js';
import { thresholdRouter } from './threshold-router.js';

const ask = (content: string): ChatRequest => ({ model: 'm', messages: [{ role: 'user', content }] });
const candidates = [candidate('api/strong'), candidate('lab/weak')];

describe('thresholdRouter', () => {
  it('sends scores at or above the threshold to the strong model first, others to the weak one', async () => {
    const scores: Record<string, number> = { easy: 0.2, edge: 0.5, hard: 0.9 };
    const router = thresholdRouter({
      strong: 'api/strong',
      weak: 'lab/weak',
      threshold: 0.5,
      scorer: (request) => scores[request.messages[0]!.content as string]!,
    });
    expect(models(await router.doRoute(routeContext(candidates, ask('easy'))))).toEqual([
      'lab/weak',
      'api/strong',
    ]);
    expect(models(await router.doRoute(routeContext(candidates, ask('edge'))))).toEqual([
      'api/strong',
      'lab/weak',
    ]);
    expect(models(await router.doRoute(routeContext(candidates, ask('hard'))))).toEqual([
      'api/strong',
      'lab/weak',
    ]);
  });

  it('awaits an async scorer, and falls back to the other model when the preferred one is down', async () => {
    const router = thresholdRouter({ strong: 'api/strong', weak: 'lab/weak', scorer: async () => 1 });
    const down = [candidate('api/strong', { healthy: false }), candidate('lab/weak')];
    expect(models(await router.doRoute(routeContext(down)))).toEqual(['lab/weak']);
    expect(models(await router.doRoute(routeContext(candidates)))).toEqual(['api/strong', 'lab/weak']);
  });

  it('uses the complexity scorer by default', async () => {
    const router = thresholdRouter({ strong: 'api/strong', weak: 'lab/weak', threshold: 0.4 });
    expect(models(await router.doRoute(routeContext(candidates, ask('hi'))))[0]).toBe('lab/weak');
    const hard = ask(
      'Prove that the algorithm below is correct, analyze its complexity step by step, and compare it with a heap-based design. ' +
        'Why does it terminate? What is the worst case?\n```python\ndef f(x):\n    return x\n```'.repeat(3),
    );
    expect(models(await router.doRoute(routeContext(candidates, hard)))[0]).toBe('api/strong');
  });
});

describe('calibrateThreshold', () => {
  const sample = [
    'hi',
    'thanks!',
    'what time is it in Paris?',
    'translate "good morning" to German',
    'write a haiku about rain',
    'summarise this paragraph: the quick brown fox jumps over the lazy dog several times a day',
    'explain why the sky is blue, step by step',
    'debug this: ```js\nconst x = y +\n```',
    'prove that there are infinitely many primes and analyze the proof',
    'design a distributed rate limiter; compare token bucket and sliding window trade-offs. What fails under partition? How do you test it?',
  ].map((content) => complexityScorer(ask(content)));

  it('sends the requested share of sample prompts to the strong model', () => {
    for (const share of [0, 0.1, 0.2, 0.3, 0.5, 0.7, 1]) {
      const threshold = calibrateThreshold(sample, share);
      const strong = sample.filter((score) => score >= threshold).length;
      expect(strong).toBe(Math.round(share * sample.length));
    }
  });

  it('puts a tie across the boundary on the side closer to the target, weak on a draw', () => {
    const scores = [0.9, 0.5, 0.5, 0.5, 0.1];
    // 2 of 5 wanted: all three ties strong (4) is 2 off, none (1) is 1 off.
    expect(calibrateThreshold(scores, 0.4)).toBeCloseTo(0.7);
    // 3 of 5 wanted: strong gives 4 (1 off), weak gives 1 (2 off).
    expect(calibrateThreshold(scores, 0.6)).toBe(0.5);
    expect(calibrateThreshold([0.5, 0.5], 0.5)).toBe(Number.POSITIVE_INFINITY);
  });

  it('rejects a share outside [0, 1] or no scores', () => {
    expect(() => calibrateThreshold([0.1], 1.5)).toThrow(RangeError);
    expect(() => calibrateThreshold([Number.NaN], 0.5)).toThrow(RangeError);
  });
});
