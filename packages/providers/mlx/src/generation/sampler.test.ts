import { describe, expect, it } from 'vitest';
import { Sampler } from './sampler.js';

const logits = [1, 3, 2, 0.5, 2.9];

function histogram(sampler: Sampler, draws: number, history: number[] = []): number[] {
  const counts = new Array(logits.length).fill(0);
  for (let i = 0; i < draws; i++) counts[sampler.sample(logits, history)]++;
  return counts;
}

describe('Sampler', () => {
  it('picks the most likely token at temperature 0, in MLX when nothing needs the logits', () => {
    const sampler = new Sampler({ temperature: 0 });
    expect(sampler.needsLogits).toBe(false);
    expect(sampler.sample(logits, [])).toBe(1);
    expect(new Sampler({ temperature: 0, repetitionPenalty: 1.1 }).needsLogits).toBe(true);
  });

  it('repeats itself with the same seed and differs with another', () => {
    const draw = (seed: number) => {
      const sampler = new Sampler({ temperature: 1, seed });
      return Array.from({ length: 40 }, () => sampler.sample(logits, []));
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it('top_k, top_p and min_p keep only the likely tokens', () => {
    expect(histogram(new Sampler({ topK: 2, seed: 1 }), 500).filter((count) => count > 0)).toHaveLength(2);
    const topK = histogram(new Sampler({ topK: 2, seed: 1 }), 500);
    expect(topK[1]! + topK[4]!).toBe(500);
    // p(1) ≈ 0.42, p(4) ≈ 0.38: top_p 0.5 needs both, top_p 0.3 only the first.
    expect(histogram(new Sampler({ topP: 0.3, seed: 2 }), 300)[1]).toBe(300);
    const minP = histogram(new Sampler({ minP: 0.5, seed: 3 }), 500);
    // Relative weights: e^-2, 1, e^-1, e^-2.5, e^-0.1: only tokens 1 and 4 reach half the best.
    expect(minP[0]! + minP[2]! + minP[3]!).toBe(0);
    expect(minP[4]).toBeGreaterThan(0);
  });

  it('temperature flattens or sharpens the distribution', () => {
    const cold = histogram(new Sampler({ temperature: 0.02, seed: 4 }), 400);
    const hot = histogram(new Sampler({ temperature: 5, seed: 4 }), 400);
    expect(cold[1]).toBeGreaterThan(390);
    expect(hot[3]).toBeGreaterThan(40);
  });

  it('repetition, frequency and presence penalties push seen tokens down; logit_bias moves any token', () => {
    expect(new Sampler({ temperature: 0, repetitionPenalty: 2 }).sample(logits, [1])).toBe(4);
    expect(new Sampler({ temperature: 0, presencePenalty: 0.5 }).sample(logits, [1])).toBe(4);
    expect(new Sampler({ temperature: 0, frequencyPenalty: 0.05 }).sample(logits, [1, 1, 1])).toBe(4);
    expect(new Sampler({ temperature: 0, logitBias: { '3': 10 } }).sample(logits, [])).toBe(3);
  });
});
