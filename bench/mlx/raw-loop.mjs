/**
 * The baseline of the MLX bench: a plain node-mlx decode loop, written directly against
 * `@frost-beta/mlx` (no provider, worker protocol, tokenizer or sampler): load the safetensors,
 * run the llama forward pass with a step-allocated KV cache, greedy argmax, `await setImmediate`
 * between tokens. Runs as a child process (like the provider's worker) and answers over IPC:
 * `{ promptTokens, decodeTokens, seed }` → `{ prefillMs, decodeMs, decodeCpuMs, tokens }`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const mx = createRequire(import.meta.url)('@frost-beta/mlx').core;
const dir = process.argv[2];
const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
const weights = mx.load(join(dir, 'model.safetensors'));
const q = config.quantization;

const linear = (name) => ({
  w: weights[`${name}.weight`],
  scales: weights[`${name}.scales`],
  biases: weights[`${name}.biases`],
});
const apply = (x, l) =>
  l.scales ? mx.quantizedMatmul(x, l.w, l.scales, l.biases, true, q.group_size, q.bits) : mx.matmul(x, l.w.T);
const embed = linear('model.embed_tokens');
const head = weights['lm_head.weight'] ? linear('lm_head') : embed;
const layers = Array.from({ length: config.num_hidden_layers }, (_, i) => {
  const p = `model.layers.${i}`;
  return {
    n1: weights[`${p}.input_layernorm.weight`],
    n2: weights[`${p}.post_attention_layernorm.weight`],
    q: linear(`${p}.self_attn.q_proj`),
    k: linear(`${p}.self_attn.k_proj`),
    v: linear(`${p}.self_attn.v_proj`),
    o: linear(`${p}.self_attn.o_proj`),
    gate: linear(`${p}.mlp.gate_proj`),
    up: linear(`${p}.mlp.up_proj`),
    down: linear(`${p}.mlp.down_proj`),
  };
});
const norm = weights['model.norm.weight'];
const {
  num_attention_heads: H,
  num_key_value_heads: KV,
  head_dim: D,
  rms_norm_eps: eps,
  rope_theta: theta,
} = config;

class Cache {
  offset = 0;
  update(k, v) {
    const prev = this.offset;
    const n = k.shape[2];
    if (!this.k || prev + n > this.k.shape[2]) {
      const room = Math.ceil(n / 256) * 256;
      const ek = mx.zeros([1, KV, room, D]);
      const ev = mx.zeros([1, KV, room, D]);
      if (this.k) {
        this.k = mx.concatenate([this.k.index('...', mx.Slice(null, prev), mx.Slice()), ek], 2);
        this.v = mx.concatenate([this.v.index('...', mx.Slice(null, prev), mx.Slice()), ev], 2);
      } else {
        this.k = ek;
        this.v = ev;
      }
    }
    this.offset += n;
    this.k.indexPut_(['...', mx.Slice(prev, this.offset), mx.Slice()], k);
    this.v.indexPut_(['...', mx.Slice(prev, this.offset), mx.Slice()], v);
    return [
      this.k.index('...', mx.Slice(null, this.offset), mx.Slice()),
      this.v.index('...', mx.Slice(null, this.offset), mx.Slice()),
    ];
  }
}

function forward(tokens, caches) {
  const L = tokens.length;
  const offset = caches[0].offset;
  const ids = mx.array([tokens], mx.int32);
  let x = embed.scales
    ? mx.dequantize(
        mx.take(embed.w, ids, 0),
        mx.take(embed.scales, ids, 0),
        mx.take(embed.biases, ids, 0),
        q.group_size,
        q.bits,
      )
    : mx.take(embed.w, ids, 0);
  let mask;
  if (L > 1) {
    const rows = mx.reshape(mx.arange(offset, offset + L, 1, mx.int32), [L, 1]);
    const cols = mx.reshape(mx.arange(0, offset + L, 1, mx.int32), [1, offset + L]);
    mask = mx.where(mx.greaterEqual(rows, cols), mx.array(0), mx.array(-Infinity));
  }
  layers.forEach((layer, i) => {
    const h = mx.fast.rmsNorm(x, layer.n1, eps);
    let qs = apply(h, layer.q).reshape([1, L, H, D]).transpose(0, 2, 1, 3);
    let ks = apply(h, layer.k).reshape([1, L, KV, D]).transpose(0, 2, 1, 3);
    const vs = apply(h, layer.v).reshape([1, L, KV, D]).transpose(0, 2, 1, 3);
    qs = mx.fast.rope(qs, D, false, theta, 1, offset);
    ks = mx.fast.rope(ks, D, false, theta, 1, offset);
    const [K, V] = caches[i].update(ks, vs);
    const a = mx.fast.scaledDotProductAttention(qs, K, V, 1 / Math.sqrt(D), mask);
    x = mx.add(x, apply(a.transpose(0, 2, 1, 3).reshape([1, L, H * D]), layer.o));
    const m = mx.fast.rmsNorm(x, layer.n2, eps);
    const g = apply(m, layer.gate);
    x = mx.add(x, apply(mx.multiply(mx.multiply(g, mx.sigmoid(g)), apply(m, layer.up)), layer.down));
  });
  if (L > 1) x = x.index(mx.Slice(), mx.Slice(-1));
  return apply(mx.fast.rmsNorm(x, norm, eps), head).reshape([config.vocab_size]);
}

const cpuMs = (usage) => (usage.user + usage.system) / 1000;

async function run({ promptTokens, decodeTokens, seed }) {
  const caches = layers.map(() => new Cache());
  const prompt = Array.from(
    { length: promptTokens },
    (_, i) => (seed * 7919 + i * 104729) % config.vocab_size,
  );
  const started = performance.now();
  let logits = forward(prompt, caches);
  let token = mx.argmax(logits).item();
  const firstToken = performance.now();
  const cpuAtFirstToken = process.cpuUsage();
  for (let i = 1; i < decodeTokens; i++) {
    logits = forward([token], caches);
    mx.eval(logits, ...caches.flatMap((c) => [c.k, c.v]));
    token = mx.argmax(logits).item();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return {
    prefillMs: firstToken - started,
    decodeMs: performance.now() - firstToken,
    decodeCpuMs: cpuMs(process.cpuUsage(cpuAtFirstToken)),
    tokens: decodeTokens,
    rss: process.memoryUsage.rss(),
  };
}

process.on('message', (message) => {
  run(message).then((result) => process.send(result));
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
