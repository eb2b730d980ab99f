import { describe, expect, it } from 'vitest';
import type { CausalLmConfig } from '../loading/model-config.js';
import { ropeInverseFrequencies } from './rope.js';

const llama31 = {
  headDim: 128,
  ropeTheta: 500000,
  ropeScaling: {
    type: 'llama3',
    factor: 8,
    lowFreqFactor: 1,
    highFreqFactor: 4,
    originalMaxPositionEmbeddings: 8192,
  },
} as CausalLmConfig;

describe('ropeInverseFrequencies (Llama 3.1 scaling, by hand: fast.rope takes no frequencies)', () => {
  const plain = ropeInverseFrequencies({ ...llama31, ropeScaling: undefined } as CausalLmConfig);
  const scaled = ropeInverseFrequencies(llama31);

  it('keeps high frequencies, divides low ones by the factor, and blends in between', () => {
    expect(plain[0]).toBe(1);
    expect(plain[1]).toBeCloseTo(500000 ** (-2 / 128), 12);
    for (let i = 0; i < 64; i++) {
      const wavelength = (2 * Math.PI) / plain[i]!;
      if (wavelength < 8192 / 4) expect(scaled[i]).toBe(plain[i]);
      else if (wavelength > 8192) expect(scaled[i]).toBeCloseTo(plain[i]! / 8, 15);
      else {
        expect(scaled[i]).toBeLessThan(plain[i]!);
        expect(scaled[i]).toBeGreaterThan(plain[i]! / 8);
      }
    }
    // Wavelengths 2048..8192 are blended: both sides of the band are present at this size.
    expect(
      scaled.filter((value, i) => value !== plain[i] && Math.abs(value - plain[i]! / 8) > 1e-18).length,
    ).toBeGreaterThan(0);
  });
});
