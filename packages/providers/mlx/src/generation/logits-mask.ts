/**
 * Applies a token bitmask (bit `id` set for each allowed token, 32 per word, as xgrammar gives it)
 * to logits inside MLX: the bits are unpacked by MLX and disallowed logits become -Infinity. Only
 * the bitmask crosses into MLX (vocabulary ÷ 16 numbers), never the logits into JavaScript:
 * reading a 32k-logit vector with `tolist()` costs more than a decode step on CPU. The words go in
 * as 16-bit halves: node-mlx converts JavaScript numbers through float32, exact only to 2^24.
 */
import type { Mx, MxArray } from '../mlx/mlx-binding.js';

export class LogitsMask {
  readonly #mx: Mx;
  readonly #size: number;
  /** 16-bit halves of the bitmask's words. */
  readonly #halves: number;
  /** Each half's bit positions, [halves, 16]. */
  readonly #shifts: MxArray;
  readonly #spread: MxArray;
  readonly #one: MxArray;
  readonly #blocked: MxArray;

  constructor(mx: Mx, size: number) {
    this.#mx = mx;
    this.#size = size;
    this.#halves = Math.ceil(size / 32) * 2;
    // node-mlx's shifts do not broadcast: both operands are spread to [halves, 16].
    this.#shifts = mx.add(
      mx.reshape(mx.arange(0, 16, 1, mx.int32), [1, 16]),
      mx.zeros([this.#halves, 1], mx.int32),
    );
    this.#spread = mx.zeros([1, 16], mx.int32);
    this.#one = mx.array(1, mx.int32);
    this.#blocked = mx.array(Number.NEGATIVE_INFINITY, mx.float32);
  }

  /** `logits` (one row of `size`) with the tokens whose bit is clear set to -Infinity. */
  apply(logits: MxArray, bitmask: Int32Array): MxArray {
    const mx = this.#mx;
    const halves = new Array<number>(this.#halves);
    for (let word = 0; word < this.#halves / 2; word++) {
      const bits = bitmask[word] ?? 0;
      halves[2 * word] = bits & 0xffff;
      halves[2 * word + 1] = bits >>> 16;
    }
    const column = mx.add(mx.reshape(mx.array(halves, mx.int32), [this.#halves, 1]), this.#spread);
    const shifted = mx.rightShift(column, this.#shifts);
    const bits = mx.reshape(mx.bitwiseAnd(shifted, this.#one), [this.#halves * 16]);
    const allowed = mx.greaterEqual(bits.index(mx.Slice(0, this.#size)), this.#one);
    return mx.where(allowed, logits, this.#blocked);
  }
}
