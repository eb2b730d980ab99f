/**
 * Reads a model directory in the mlx-community layout and checks that this runtime can serve it,
 * without loading any weights: `config.json`, the safetensors headers (sharded through
 * `model.safetensors.index.json` or not), `tokenizer.json`, the chat template and
 * `generation_config.json`. Runs in the orchestrator (discovery, memory estimates, early refusal)
 * and again in the worker before it loads.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ExpectedTensor,
  expectedCausalTensors,
  expectedEncoderTensors,
  isIgnoredTensor,
  sanitizeEncoderName,
} from './expected-tensors.js';
import { type ModelConfig, parseModelConfig, type QuantizationConfig } from './model-config.js';
import { readSafetensorsHeader, type SafetensorsDtype } from './safetensors.js';
import { UnsupportedLayoutError } from './unsupported-layout-error.js';

/** Where one tensor lives and what it holds. */
export interface TensorLocation {
  /** Name in the file. */
  fileName: string;
  file: string;
  dtype: SafetensorsDtype;
  shape: number[];
}

/** How a linear or embedding layer is stored. */
export type LayerStorage = { quantized: false } | { quantized: true; groupSize: number; bits: number };

/** Sampling defaults from `generation_config.json`. */
export interface GenerationDefaults {
  temperature?: number;
  top_p?: number;
  top_k?: number;
  min_p?: number;
  repetition_penalty?: number;
}

/** Everything known about a model directory before it is loaded. */
export interface ModelManifest {
  /** Absolute directory. */
  path: string;
  config: ModelConfig;
  /** Tensors by their canonical name (encoder names sanitized). */
  tensors: Record<string, TensorLocation>;
  /** Storage of every quantizable layer, by name without `.weight`. */
  layers: Record<string, LayerStorage>;
  /** Bytes the weights occupy once loaded (16-bit floats are widened to float32 on CPU). */
  weightBytes: number;
  tokenizerFile: string;
  tokenizerConfig: Record<string, unknown>;
  /** The chat template (from `chat_template.jinja`, `chat_template.json` or `tokenizer_config.json`). */
  chatTemplate?: string;
  /** A template named `tool_use`, when the tokenizer config holds several. */
  toolChatTemplate?: string;
  /** End-of-sequence ids from `generation_config.json` and `config.json`. */
  eosTokenIds: number[];
  generationDefaults: GenerationDefaults;
  /** Encoders: how token vectors become one vector, and whether it is normalised. */
  pooling?: { mode: 'mean' | 'cls'; normalize: boolean };
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new UnsupportedLayoutError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}

function readOptionalJson(file: string): Record<string, unknown> | undefined {
  return existsSync(file) ? readJson(file) : undefined;
}

function weightFiles(path: string): string[] {
  const index = readOptionalJson(join(path, 'model.safetensors.index.json'));
  if (index) {
    const map = index.weight_map as Record<string, string> | undefined;
    if (!map || typeof map !== 'object') {
      throw new UnsupportedLayoutError('model.safetensors.index.json has no weight_map.');
    }
    const files = [...new Set(Object.values(map))].sort();
    for (const file of files) {
      if (!existsSync(join(path, file))) {
        throw new UnsupportedLayoutError(`Shard ${file} named in model.safetensors.index.json is missing.`);
      }
    }
    return files;
  }
  const files = readdirSync(path)
    .filter((name) => name.endsWith('.safetensors'))
    .sort();
  if (files.length === 0) {
    const other = readdirSync(path).find((name) => /\.(bin|gguf|pt|pth|npz)$/.test(name));
    throw new UnsupportedLayoutError(
      other
        ? `No *.safetensors weights in ${path} (found ${other}; only safetensors are supported).`
        : `No *.safetensors weights in ${path}.`,
    );
  }
  return files;
}

function quantizationOf(name: string, quantization: QuantizationConfig | undefined): LayerStorage {
  if (!quantization) return { quantized: false };
  const layer = quantization.layers[name];
  if (layer === false) return { quantized: false };
  return { quantized: true, ...(layer ?? { groupSize: quantization.groupSize, bits: quantization.bits }) };
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i]);
}

/** Checks one expected tensor; returns its storage when it is a layer. */
function checkTensor(
  expected: ExpectedTensor,
  tensors: Record<string, TensorLocation>,
  quantization: QuantizationConfig | undefined,
  used: Set<string>,
): LayerStorage | undefined {
  const { name, shape } = expected;
  if (!expected.quantizable) {
    const tensor = tensors[name];
    if (!tensor) {
      if (expected.optional) return undefined;
      throw new UnsupportedLayoutError(`Tensor '${name}' is missing.`);
    }
    used.add(name);
    if (!sameShape(tensor.shape, shape)) {
      throw new UnsupportedLayoutError(
        `Tensor '${name}' has shape [${tensor.shape}], expected [${shape}] from config.json.`,
      );
    }
    if (!['F32', 'F16', 'BF16'].includes(tensor.dtype)) {
      throw new UnsupportedLayoutError(`Tensor '${name}' has dtype ${tensor.dtype}; expected a float type.`);
    }
    return undefined;
  }
  const weight = tensors[`${name}.weight`];
  if (!weight) {
    if (expected.optional) return undefined;
    throw new UnsupportedLayoutError(`Tensor '${name}.weight' is missing.`);
  }
  used.add(`${name}.weight`);
  const scales = tensors[`${name}.scales`];
  if (!scales) {
    if (!['F32', 'F16', 'BF16'].includes(weight.dtype)) {
      throw new UnsupportedLayoutError(
        `Tensor '${name}.weight' has dtype ${weight.dtype} but no '${name}.scales': quantized layouts other than MLX's are not supported.`,
      );
    }
    if (!sameShape(weight.shape, shape)) {
      throw new UnsupportedLayoutError(
        `Tensor '${name}.weight' has shape [${weight.shape}], expected [${shape}] from config.json.`,
      );
    }
    return { quantized: false };
  }
  const storage = quantizationOf(name, quantization);
  if (!storage.quantized) {
    throw new UnsupportedLayoutError(
      `Layer '${name}' is quantized but config.json has no quantization settings for it.`,
    );
  }
  const biases = tensors[`${name}.biases`];
  used.add(`${name}.scales`);
  if (biases) used.add(`${name}.biases`);
  const [out, input] = shape as [number, number];
  const minimum = storage.bits === 4 ? 256 : 128;
  if (input < minimum) {
    throw new UnsupportedLayoutError(
      `Layer '${name}' has ${input} input features; ${storage.bits}-bit quantized layers need at least ${minimum}.`,
    );
  }
  const packed = [out, (input * storage.bits) / 32];
  const grouped = [out, input / storage.groupSize];
  if (
    weight.dtype !== 'U32' ||
    !sameShape(weight.shape, packed) ||
    !sameShape(scales.shape, grouped) ||
    !biases ||
    !sameShape(biases.shape, grouped)
  ) {
    throw new UnsupportedLayoutError(
      `Quantized layer '${name}' does not match ${storage.bits}-bit, group size ${storage.groupSize}: weight ${weight.dtype}[${weight.shape}] (expected U32[${packed}]), scales [${scales.shape}], biases [${biases?.shape ?? 'missing'}] (expected [${grouped}]).`,
    );
  }
  return storage;
}

/** Every tensor kept is float32 or packed uint32 once loaded: 4 bytes an element. */
function loadedBytes(tensor: TensorLocation): number {
  return tensor.shape.reduce((product, size) => product * size, 4);
}

function readChatTemplates(
  path: string,
  tokenizerConfig: Record<string, unknown>,
): {
  chatTemplate?: string;
  toolChatTemplate?: string;
} {
  const jinjaFile = join(path, 'chat_template.jinja');
  if (existsSync(jinjaFile)) return { chatTemplate: readFileSync(jinjaFile, 'utf8') };
  const jsonFile = readOptionalJson(join(path, 'chat_template.json'));
  const template = jsonFile?.chat_template ?? tokenizerConfig.chat_template;
  if (typeof template === 'string') return { chatTemplate: template };
  if (Array.isArray(template)) {
    const named = template as { name?: string; template?: string }[];
    const byName = (name: string) => named.find((entry) => entry.name === name)?.template;
    const chatTemplate = byName('default') ?? named[0]?.template;
    const toolChatTemplate = byName('tool_use');
    return {
      ...(chatTemplate ? { chatTemplate } : {}),
      ...(toolChatTemplate ? { toolChatTemplate } : {}),
    };
  }
  return {};
}

function readPooling(path: string, modelType: string): { mode: 'mean' | 'cls'; normalize: boolean } {
  const pooling = readOptionalJson(join(path, '1_Pooling', 'config.json'));
  const modules = existsSync(join(path, 'modules.json'))
    ? (JSON.parse(readFileSync(join(path, 'modules.json'), 'utf8')) as { type?: string }[])
    : undefined;
  const normalize = modules ? modules.some((module) => String(module.type).endsWith('Normalize')) : true;
  if (pooling?.pooling_mode_cls_token === true) return { mode: 'cls', normalize };
  if (pooling?.pooling_mode_mean_tokens === true) return { mode: 'mean', normalize };
  // Without sentence-transformers files: bge uses CLS; MiniLM and e5 use the mean.
  return { mode: /bge/i.test(path) && modelType === 'bert' ? 'cls' : 'mean', normalize };
}

function idList(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (Array.isArray(value)) return value.filter((id): id is number => typeof id === 'number');
  return [];
}

/**
 * Inspects a model directory. Throws {@link UnsupportedLayoutError}, with a message naming the
 * problem, for anything this runtime cannot serve.
 */
export function readModelManifest(path: string): ModelManifest {
  const configFile = join(path, 'config.json');
  if (!existsSync(configFile)) throw new UnsupportedLayoutError(`${path} has no config.json.`);
  const config = parseModelConfig(readJson(configFile));
  const tensors: Record<string, TensorLocation> = {};
  for (const file of weightFiles(path)) {
    const header = readSafetensorsHeader(join(path, file));
    for (const [fileName, info] of Object.entries(header.tensors)) {
      const name = config.kind === 'encoder' ? sanitizeEncoderName(fileName) : fileName;
      tensors[name] = { fileName, file: join(path, file), dtype: info.dtype, shape: info.shape };
    }
  }
  const expected = config.kind === 'causal' ? expectedCausalTensors(config) : expectedEncoderTensors(config);
  const layers: Record<string, LayerStorage> = {};
  const used = new Set<string>();
  for (const tensor of expected) {
    const storage = checkTensor(tensor, tensors, config.quantization, used);
    if (storage) layers[tensor.name] = storage;
  }
  const unknown = Object.keys(tensors).filter((name) => !used.has(name) && !isIgnoredTensor(name));
  if (unknown.length > 0) {
    throw new UnsupportedLayoutError(
      `Unexpected tensors for a ${config.modelType} model: ${unknown.slice(0, 3).join(', ')}${unknown.length > 3 ? ` and ${unknown.length - 3} more` : ''}. This layout is not supported.`,
    );
  }
  let weightBytes = 0;
  for (const name of used) weightBytes += loadedBytes(tensors[name]!);

  const tokenizerFile = join(path, 'tokenizer.json');
  if (!existsSync(tokenizerFile)) {
    throw new UnsupportedLayoutError(
      `${path} has no tokenizer.json (sentencepiece-only tokenizers are not supported).`,
    );
  }
  const tokenizerConfig = readOptionalJson(join(path, 'tokenizer_config.json')) ?? {};
  const generation = readOptionalJson(join(path, 'generation_config.json')) ?? {};
  const generationDefaults: GenerationDefaults = {};
  for (const key of ['temperature', 'top_p', 'top_k', 'min_p', 'repetition_penalty'] as const) {
    if (typeof generation[key] === 'number') generationDefaults[key] = generation[key];
  }
  const eosTokenIds = [
    ...new Set([...idList(generation.eos_token_id), ...(config.kind === 'causal' ? config.eosTokenIds : [])]),
  ];
  const manifest: ModelManifest = {
    path,
    config,
    tensors,
    layers,
    weightBytes,
    tokenizerFile,
    tokenizerConfig,
    eosTokenIds,
    generationDefaults,
  };
  if (config.kind === 'causal') Object.assign(manifest, readChatTemplates(path, tokenizerConfig));
  else manifest.pooling = readPooling(path, config.modelType);
  return manifest;
}
