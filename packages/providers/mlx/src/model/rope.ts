/**
 * Rotary position embeddings. Plain and linearly scaled ropes use MLX's fused kernel; Llama 3.1+
 * frequency scaling needs per-dimension frequencies, which node-mlx's `fast.rope` cannot take, so
 * those rotate by hand (`rotate_half` form) with frequencies computed here.
 */
import type { CausalLmConfig } from '../loading/model-config.js';
import type { Mx, MxArray } from '../mlx/mlx-binding.js';

/** Inverse frequencies of each rotated pair, with Llama 3's scaling applied when configured. */
export function ropeInverseFrequencies(config: CausalLmConfig): number[] {
  const dims = config.headDim;
  const frequencies: number[] = [];
  for (let i = 0; i < dims / 2; i++) frequencies.push(1 / config.ropeTheta ** ((2 * i) / dims));
  const scaling = config.ropeScaling;
  if (scaling?.type !== 'llama3') return frequencies;
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: original } = scaling;
  const lowFreqWavelength = original / lowFreqFactor;
  const highFreqWavelength = original / highFreqFactor;
  return frequencies.map((frequency) => {
    const wavelength = (2 * Math.PI) / frequency;
    if (wavelength < highFreqWavelength) return frequency;
    if (wavelength > lowFreqWavelength) return frequency / factor;
    const smooth = (original / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * (frequency / factor) + smooth * frequency;
  });
}

export class Rope {
  readonly #mx: Mx;
  readonly #config: CausalLmConfig;
  /** `[1, dims / 2]` inverse frequencies, for the hand-made path only. */
  readonly #inverseFrequencies: MxArray | undefined;

  constructor(mx: Mx, config: CausalLmConfig) {
    this.#mx = mx;
    this.#config = config;
    if (config.ropeScaling?.type === 'llama3') {
      this.#inverseFrequencies = mx.array([ropeInverseFrequencies(config)], mx.float32);
    }
  }

  /** Rotates `x` (`[batch, heads, tokens, headDim]`) for positions `offset …`. */
  apply(x: MxArray, offset: number): MxArray {
    const mx = this.#mx;
    const { headDim, ropeTheta, ropeTraditional, ropeScaling } = this.#config;
    if (!this.#inverseFrequencies) {
      const scale = ropeScaling?.type === 'linear' ? 1 / ropeScaling.factor : 1;
      return mx.fast.rope(x, headDim, ropeTraditional, ropeTheta, scale, offset);
    }
    const tokens = x.shape[2]!;
    const positions = mx.reshape(mx.arange(offset, offset + tokens, 1, mx.float32), [tokens, 1]);
    const angles = mx.multiply(positions, this.#inverseFrequencies); // [tokens, dims / 2]
    const cos = mx.cos(angles);
    const sin = mx.sin(angles);
    const half = headDim / 2;
    const first = x.index('...', mx.Slice(null, half));
    const second = x.index('...', mx.Slice(half, null));
    return mx.concatenate(
      [
        mx.subtract(mx.multiply(first, cos), mx.multiply(second, sin)),
        mx.add(mx.multiply(first, sin), mx.multiply(second, cos)),
      ],
      -1,
    );
  }
}
