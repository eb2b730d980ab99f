import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTinyChatModel } from '../testing/tiny-model.js';
import { readModelManifest } from './model-manifest.js';
import { readSafetensorsHeader, writeSafetensors } from './safetensors.js';

const root = mkdtempSync(join(tmpdir(), 'fusion-mlx-manifest-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
const dir = () => join(root, `m${counter++}`);

function editConfig(path: string, edit: (config: Record<string, unknown>) => void) {
  const file = join(path, 'config.json');
  const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(config);
  writeFileSync(file, JSON.stringify(config));
}

describe('readModelManifest', () => {
  it('reads an mlx-community directory: sharded weights, template, eos list, memory estimate', () => {
    const path = dir();
    writeTinyChatModel(path, { architecture: 'qwen3', shards: 2, dtype: 'BF16' });
    const manifest = readModelManifest(path);
    expect(manifest.config).toMatchObject({ kind: 'causal', modelType: 'qwen3', qkNorm: true, headDim: 32 });
    expect(new Set(Object.values(manifest.tensors).map((tensor) => tensor.file)).size).toBe(2);
    expect(manifest.chatTemplate).toContain('<|im_start|>');
    expect(manifest.eosTokenIds).toHaveLength(2);
    // bfloat16 on disk, float32 once loaded.
    const onDisk = Object.values(manifest.tensors).reduce(
      (sum, t) => sum + t.shape.reduce((a, b) => a * b, 2),
      0,
    );
    expect(manifest.weightBytes).toBe(onDisk * 2);
  });

  it('reads chat_template.jinja and quantized layers', () => {
    const path = dir();
    writeTinyChatModel(path, {
      architecture: 'llama',
      hiddenSize: 256,
      quantization: { bits: 4 },
      templateFile: true,
    });
    const manifest = readModelManifest(path);
    expect(manifest.chatTemplate).toContain('<|start_header_id|>');
    expect(manifest.layers['model.layers.0.mlp.up_proj']).toEqual({
      quantized: true,
      bits: 4,
      groupSize: 64,
    });
    expect(manifest.config.kind === 'causal' && manifest.config.ropeScaling?.type).toBe('llama3');
  });

  it.each([
    [
      'an unknown architecture',
      (path: string) => editConfig(path, (c) => (c.model_type = 'gpt2')),
      /Model type 'gpt2' is not supported/,
    ],
    [
      'an unsupported rope scaling',
      (path: string) => editConfig(path, (c) => (c.rope_scaling = { rope_type: 'yarn', factor: 4 })),
      /rope scaling 'yarn'/,
    ],
    [
      'a shape that disagrees with config.json',
      (path: string) => editConfig(path, (c) => (c.intermediate_size = 100)),
      /mlp\.gate_proj\.weight' has shape \[128,64\], expected \[100,64\]/,
    ],
    [
      'a missing tensor',
      (path: string) => {
        const file = join(path, 'model.safetensors');
        const header = readSafetensorsHeader(file);
        const keep = Object.keys(header.tensors).filter((name) => !name.includes('layers.1.mlp.down_proj'));
        writeSafetensors(
          file,
          Object.fromEntries(
            keep.map((name) => [
              name,
              {
                dtype: 'F32' as const,
                shape: header.tensors[name]!.shape,
                data: new Float32Array(header.tensors[name]!.shape.reduce((a, b) => a * b, 1)),
              },
            ]),
          ),
        );
      },
      /Tensor 'model\.layers\.1\.mlp\.down_proj\.weight' is missing/,
    ],
    [
      'no tokenizer.json',
      (path: string) => unlinkSync(join(path, 'tokenizer.json')),
      /has no tokenizer\.json/,
    ],
    [
      'PyTorch weights only',
      (path: string) => {
        unlinkSync(join(path, 'model.safetensors'));
        writeFileSync(join(path, 'pytorch_model.bin'), '');
      },
      /found pytorch_model\.bin; only safetensors are supported/,
    ],
    [
      '3-bit quantization',
      (path: string) => editConfig(path, (c) => (c.quantization = { bits: 3, group_size: 64 })),
      /3-bit quantization is not supported/,
    ],
  ])('refuses %s with a clear message', (_name, damage, message) => {
    const path = dir();
    writeTinyChatModel(path, { architecture: 'qwen2' });
    damage(path);
    expect(() => readModelManifest(path)).toThrow(message);
  });

  it('refuses 4-bit layers with fewer than 256 input features', () => {
    const path = dir();
    mkdirSync(path);
    writeTinyChatModel(path, { architecture: 'qwen2', hiddenSize: 128, quantization: { bits: 8 } });
    editConfig(path, (c) => (c.quantization = { bits: 4, group_size: 64 }));
    expect(() => readModelManifest(path)).toThrow(
      /128 input features; 4-bit quantized layers need at least 256/,
    );
  });
});
