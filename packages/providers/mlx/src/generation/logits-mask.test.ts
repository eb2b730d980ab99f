import { describe, expect, it } from 'vitest';
import { applyTokenBitmask } from '../grammar/output-constraints.js';
import { mlx } from '../mlx/mlx-binding.js';
import { normalRandom } from '../testing/tiny-model.js';
import { LogitsMask } from './logits-mask.js';

describe('LogitsMask', () => {
  it.each([31, 32, 1000, 32_003])('masks %i logits in MLX exactly as the JavaScript bitmask does', (size) => {
    const mx = mlx();
    const random = normalRandom(size);
    const values = Array.from({ length: size }, () => random());
    const bitmask = new Int32Array(Math.ceil(size / 32) + 1);
    for (let word = 0; word < bitmask.length; word++) bitmask[word] = (random() * 2 ** 32) | 0;
    bitmask[0] = -1;
    const expected = [...values];
    applyTokenBitmask(expected, bitmask);
    const masked = new LogitsMask(mx, size).apply(mx.array(values, mx.float32), bitmask);
    const actual = masked.tolist() as number[];
    expect(actual.map((value) => value === Number.NEGATIVE_INFINITY)).toEqual(
      expected.map((value) => value === Number.NEGATIVE_INFINITY),
    );
    expect(mx.argmax(masked).item()).toBe(expected.indexOf(Math.max(...expected)));
  });
});
