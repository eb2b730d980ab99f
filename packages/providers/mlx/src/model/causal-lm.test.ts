import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readModelManifest } from '../loading/model-manifest.js';
import { mlx } from '../mlx/mlx-binding.js';
import { referenceLogits } from '../testing/reference-causal-lm.js';
import {
  type TinyArchitecture,
  type TinyChatModelOptions,
  writeTinyChatModel,
} from '../testing/tiny-model.js';
import { CausalLm } from './causal-lm.js';

const root = mkdtempSync(join(tmpdir(), 'fusion-mlx-causal-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
function build(options: TinyChatModelOptions) {
  const tiny = writeTinyChatModel(join(root, `m${counter++}`), options);
  return { tiny, model: CausalLm.load(readModelManifest(tiny.path)) };
}

const PROMPT = [5, 17, 42, 99, 3, 250, 11, 64, 128, 7, 200, 31];

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

function greedy(model: CausalLm, prompt: number[], steps: number, chunk = prompt.length): number[] {
  const mx = mlx();
  const cache = model.newCache();
  let logits = model.forward(prompt.slice(0, chunk), cache);
  for (let start = chunk; start < prompt.length; start += chunk) {
    logits = model.forward(prompt.slice(start, start + chunk), cache);
  }
  const out: number[] = [];
  for (let step = 0; step < steps; step++) {
    const token = mx.argmax(logits).item() as number;
    out.push(token);
    logits = model.forward([token], cache);
  }
  return out;
}

describe('CausalLm', () => {
  const architectures: TinyArchitecture[] = ['llama', 'mistral', 'qwen2', 'qwen3'];

  it.each(architectures)(
    '%s: one forward pass matches a float64 JavaScript reference within 1e-4',
    (architecture) => {
      const { tiny, model } = build({ architecture });
      const logits = model.forward(PROMPT, model.newCache(), { allPositions: true }).tolist() as number[][];
      const reference = referenceLogits(tiny.path, PROMPT);
      expect(logits).toHaveLength(PROMPT.length);
      for (let position = 0; position < PROMPT.length; position++) {
        expect(maxDifference(logits[position]!, reference[position]!)).toBeLessThan(1e-4);
      }
    },
  );

  it('loads float16 and bfloat16 weights (widened to float32) and sharded checkpoints', () => {
    for (const dtype of ['F16', 'BF16'] as const) {
      const { tiny, model } = build({ architecture: 'qwen3', dtype, shards: 3 });
      const logits = model.forward(PROMPT, model.newCache(), { allPositions: true }).tolist() as number[][];
      const reference = referenceLogits(tiny.path, PROMPT);
      expect(maxDifference(logits[PROMPT.length - 1]!, reference[PROMPT.length - 1]!)).toBeLessThan(1e-4);
    }
  });

  it('KV-cached decoding equals full recomputation token for token, past the cache growth step', () => {
    const { model } = build({ architecture: 'qwen2', seed: 3 });
    const mx = mlx();
    const steps = 270; // the cache grows at 256 tokens
    const cached = greedy(model, PROMPT, steps);
    const sequence = [...PROMPT];
    for (let step = 0; step < steps; step++) {
      const logits = model.forward(sequence, model.newCache());
      sequence.push(mx.argmax(logits).item() as number);
    }
    expect(cached).toEqual(sequence.slice(PROMPT.length));
    expect(new Set(cached).size).toBeGreaterThan(5);
  });

  it('chunked prefill equals a one-shot prefill', () => {
    const { model } = build({ architecture: 'llama', seed: 4 });
    expect(greedy(model, PROMPT, 20, 5)).toEqual(greedy(model, PROMPT, 20));
  });

  it.each([
    [4, 256],
    [8, 128],
  ] as const)('%i-bit: loads, decodes, and matches its dequantized equivalent', (bits, hiddenSize) => {
    const options: TinyChatModelOptions = {
      architecture: 'llama',
      hiddenSize,
      intermediateSize: 2 * hiddenSize,
      heads: 4,
      kvHeads: 2,
      quantization: { bits, groupSize: 64 },
      seed: 5,
    };
    const quantized = build(options);
    const dense = build({ ...options, dequantized: true });
    const mx = mlx();
    const a = quantized.model.forward(PROMPT, quantized.model.newCache());
    const b = dense.model.forward(PROMPT, dense.model.newCache());
    expect(maxDifference(a.tolist() as number[], b.tolist() as number[])).toBeLessThan(1e-3);
    expect(mx.argmax(a).item()).toBe(mx.argmax(b).item());
    expect(greedy(quantized.model, PROMPT, 24)).toEqual(greedy(dense.model, PROMPT, 24));
    // The packed words decode as the JavaScript reference reads them.
    const reference = referenceLogits(quantized.tiny.path, PROMPT.slice(0, 4));
    const logits = quantized.model.forward(PROMPT.slice(0, 4), quantized.model.newCache(), {
      allPositions: true,
    });
    expect(maxDifference((logits.tolist() as number[][])[3]!, reference[3]!)).toBeLessThan(1e-3);
    expect(quantized.model.weights.bytes).toBeLessThan(dense.model.weights.bytes / 2);
  });
});
