/**
 * The key/value cache of one attention layer. Storage grows in steps (as mlx-lm's `KVCache`), so
 * a decoded token writes into room already there instead of copying the whole cache.
 */
import type { Mx, MxArray } from '../mlx/mlx-binding.js';

/** Default growth step, in tokens. */
export const KV_CACHE_STEP = 256;

export class KvCache {
  #keys: MxArray | undefined;
  #values: MxArray | undefined;
  /** Tokens held. */
  offset = 0;

  constructor(
    private readonly mx: Mx,
    readonly step: number = KV_CACHE_STEP,
  ) {}

  /** Appends `keys`/`values` (`[batch, kvHeads, tokens, headDim]`) and returns the whole cache. */
  update(keys: MxArray, values: MxArray): [MxArray, MxArray] {
    const { mx } = this;
    const previous = this.offset;
    const length = keys.shape[2]!;
    if (!this.#keys || !this.#values || previous + length > this.#keys.shape[2]!) {
      const [batch, heads, , headDim] = keys.shape as [number, number, number, number];
      const steps = Math.ceil(length / this.step);
      const room = (shape: number[]) => mx.zeros(shape, keys.dtype);
      const extraKeys = room([batch, heads, steps * this.step, headDim]);
      const extraValues = room([batch, heads, steps * this.step, values.shape[3]!]);
      if (this.#keys && this.#values) {
        const keep = mx.Slice(null, previous);
        this.#keys = mx.concatenate([this.#keys.index('...', keep, mx.Slice()), extraKeys], 2);
        this.#values = mx.concatenate([this.#values.index('...', keep, mx.Slice()), extraValues], 2);
      } else {
        this.#keys = extraKeys;
        this.#values = extraValues;
      }
    }
    this.offset = previous + length;
    const range = mx.Slice(previous, this.offset);
    this.#keys.indexPut_(['...', range, mx.Slice()], keys);
    this.#values.indexPut_(['...', range, mx.Slice()], values);
    const held = mx.Slice(null, this.offset);
    return [this.#keys.index('...', held, mx.Slice()), this.#values.index('...', held, mx.Slice())];
  }

  /** Forgets everything after the first `tokens` (for reuse of a shared prompt prefix). */
  trim(tokens: number): void {
    this.offset = Math.min(this.offset, tokens);
  }

  /** Arrays to evaluate after a prefill chunk. */
  state(): MxArray[] {
    return this.#keys && this.#values ? [this.#keys, this.#values] : [];
  }

  /** Bytes allocated (including room not yet used). */
  get bytes(): number {
    return (this.#keys?.nbytes ?? 0) + (this.#values?.nbytes ?? 0);
  }
}
