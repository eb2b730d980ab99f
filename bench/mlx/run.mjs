/**
 * MLX bench: `npm run bench:mlx` (builds first) or `node bench/mlx/run.mjs`.
 *
 * An 8-layer / hidden 512 / vocab 32k llama-shaped model with random weights is written (float32
 * and 4-bit), then prefill and decode tokens/s are measured, interleaved over `--rounds` rounds:
 *   raw          a plain node-mlx loop in its own process (bench/mlx/raw-loop.mjs), the baseline;
 *   provider     `createMlxProvider(...).doStream` (worker process, IPC, tokenizer, template);
 *   orchestrator `fusion.stream(...)` with that provider registered (queue, hooks, pipeline);
 *   constrained  the provider with `response_format: json_schema` (a string of fixed length in an
 *                object), compared with the provider's free decoding (target ≥ 0.8×).
 * Then the worker's RSS is sampled over a 2,000-token generation through the provider.
 * Prints a table of medians with ratios against raw, PASS/MISS for the targets (≥ 0.95× raw,
 * RSS drift within ±5% once the KV cache's own growth is set aside), and writes
 * bench/results/mlx.json. A benchmark, not a test: it exits 0 on MISS.
 *
 * Decode is also measured in CPU time per token (the worker's and the orchestrator's process
 * together, against the raw loop's process), which other load on the machine disturbs less than
 * wall time. Note: for prompts the provider dequantizes 4-bit layers and multiplies through BLAS
 * (node-mlx's quantized kernel is naive on CPU); the raw loop uses the quantized kernel throughout.
 *
 * Options (env): BENCH_MLX_ROUNDS (5), BENCH_MLX_PROMPT (256 tokens), BENCH_MLX_DECODE (96 tokens),
 * BENCH_MLX_RSS_TOKENS (2000), BENCH_MLX_DTYPES ("f32,q4").
 */
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFusion } from '@fusionkit/core';
import { createMlxProvider } from '@fusionkit/mlx';
import { writeTinyChatModel } from '@fusionkit/mlx/testing';

const env = process.env;
const options = {
  rounds: Number(env.BENCH_MLX_ROUNDS ?? 5),
  promptTokens: Number(env.BENCH_MLX_PROMPT ?? 256),
  decodeTokens: Number(env.BENCH_MLX_DECODE ?? 96),
  rssTokens: Number(env.BENCH_MLX_RSS_TOKENS ?? 2000),
  dtypes: (env.BENCH_MLX_DTYPES ?? 'f32,q4').split(','),
};
const shape = {
  layers: 8,
  hiddenSize: 512,
  heads: 8,
  kvHeads: 2,
  headDim: 64,
  intermediateSize: 1408,
  vocabSize: 32000,
};
const here = fileURLToPath(new URL('.', import.meta.url));
const resultsFile = fileURLToPath(new URL('../results/mlx.json', import.meta.url));

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** Printable text that the padded byte-level tokenizer turns into about `tokens` tokens. */
function promptText(seed, tokens) {
  let state = seed;
  let text = '';
  while (text.length < tokens * 2.2) {
    state = (state * 1103515245 + 12345) % 2147483648;
    text += String.fromCharCode(33 + (state % 94));
    if (state % 7 === 0) text += ' ';
  }
  return text;
}

function startRaw(dir) {
  return new Promise((resolve, reject) => {
    const child = fork(join(here, 'raw-loop.mjs'), [dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('error', reject);
    child.once('message', () =>
      resolve({
        run: (message) =>
          new Promise((done) => {
            child.once('message', done);
            child.send(message);
          }),
        stop: () => child.kill(),
      }),
    );
  });
}

const cpuMs = (usage) => (usage.user + usage.system) / 1000;

/**
 * Runs one streamed generation and times it: to the first content token, then to the end; with
 * `provider`, also the CPU time of the decode, in the worker and in this process.
 */
async function timeStream(chunks, provider) {
  const started = performance.now();
  let first;
  let usage;
  let cpuAtFirst;
  for await (const chunk of chunks) {
    if (first === undefined && chunk.choices[0]?.delta?.content) {
      first = performance.now();
      if (provider) cpuAtFirst = { worker: (await provider.memoryReport()).cpu, here: process.cpuUsage() };
    }
    if (chunk.usage) usage = chunk.usage;
  }
  const ended = performance.now();
  let decodeCpuMs;
  if (cpuAtFirst) {
    const worker = (await provider.memoryReport()).cpu;
    decodeCpuMs = cpuMs(worker) - cpuMs(cpuAtFirst.worker) + cpuMs(process.cpuUsage(cpuAtFirst.here));
  }
  return {
    prefillMs: first - started,
    decodeMs: ended - first,
    decodeCpuMs,
    tokens: usage.completion_tokens,
    promptTokens: usage.prompt_tokens,
    cachedTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
  };
}

function rates(run, promptTokens) {
  return {
    prefill: promptTokens / (run.prefillMs / 1000),
    decode: (run.tokens - 1) / (run.decodeMs / 1000),
    decodeCpuMsPerToken: run.decodeCpuMs / (run.tokens - 1),
  };
}

async function benchDtype(dtype, root) {
  const dir = join(root, `bench-${dtype}`);
  const startedWrite = performance.now();
  writeTinyChatModel(dir, {
    architecture: 'llama',
    ...shape,
    weightScale: 0.02,
    contextLength: 8192,
    ropeScaling: null,
    ...(dtype === 'q4' ? { quantization: { bits: 4, groupSize: 64 } } : {}),
  });
  console.log(`${dtype}: model written in ${((performance.now() - startedWrite) / 1000).toFixed(1)} s`);
  const provider = createMlxProvider({ id: 'bench', models: { model: dir }, huggingFaceCache: false });
  const fusion = createFusion({ providers: [provider], healthIntervalMs: 0 });
  await fusion.ready;
  await provider.load('model');
  const raw = await startRaw(dir);
  const request = (seed, maxTokens) => ({
    model: 'model',
    messages: [{ role: 'user', content: promptText(seed, options.promptTokens) }],
    max_tokens: maxTokens,
    temperature: 0,
    ignore_eos: true,
    stream: true,
  });
  const call = () => ({ signal: new AbortController().signal, requestId: 'bench' });
  // About `decodeTokens` tokens of JSON (the padded vocabulary's tokens hold 1–3 characters).
  const textLength = Math.round(options.decodeTokens * 2);
  const constrainedRequest = (seed) => ({
    ...request(seed, options.decodeTokens * 4),
    response_format: {
      type: 'json_schema',
      json_schema: {
        name: 'bench',
        schema: {
          type: 'object',
          properties: { text: { type: 'string', minLength: textLength, maxLength: textLength } },
          required: ['text'],
        },
      },
    },
  });
  // Warm-up: first evaluation of every kernel, page-in of the weights, in both processes; the
  // grammar engine's vocabulary and the schema's grammar.
  await timeStream(provider.doStream(request(1, 4), call()));
  await timeStream(provider.doStream(constrainedRequest(1), call()));
  await raw.run({ promptTokens: 16, decodeTokens: 4, seed: 1 });

  const runs = { raw: [], provider: [], orchestrator: [], constrained: [] };
  for (let round = 0; round < options.rounds; round++) {
    // A fresh prompt each time, so that the provider's prompt cache reuses only the template's prefix.
    const providerRun = await timeStream(
      provider.doStream(request(100 + round, options.decodeTokens), call()),
      provider,
    );
    const promptTokens = providerRun.promptTokens - providerRun.cachedTokens;
    runs.provider.push({ ...providerRun, ...rates(providerRun, promptTokens) });
    const rawRun = await raw.run({ promptTokens, decodeTokens: options.decodeTokens, seed: 100 + round });
    runs.raw.push({ ...rawRun, ...rates(rawRun, promptTokens) });
    const orchestratorRun = await timeStream(
      fusion.stream({ ...request(200 + round, options.decodeTokens), model: 'bench/model' }),
      provider,
    );
    runs.orchestrator.push({
      ...orchestratorRun,
      ...rates(orchestratorRun, orchestratorRun.promptTokens - orchestratorRun.cachedTokens),
    });
    const constrainedRun = await timeStream(
      provider.doStream(constrainedRequest(300 + round), call()),
      provider,
    );
    runs.constrained.push({
      ...constrainedRun,
      ...rates(constrainedRun, constrainedRun.promptTokens - constrainedRun.cachedTokens),
    });
    console.log(
      `${dtype} round ${round + 1}: decode raw ${runs.raw[round].decode.toFixed(1)}, provider ${runs.provider[round].decode.toFixed(1)}, orchestrator ${runs.orchestrator[round].decode.toFixed(1)}, constrained ${runs.constrained[round].decode.toFixed(1)} (${constrainedRun.tokens} tokens) tok/s`,
    );
  }
  raw.stop();

  const weightMb = provider.memoryBytes('model') / 1e6;
  await fusion.close();
  await provider.close();

  // RSS of a fresh worker (no garbage of the rounds above) over a long generation, sampled while it
  // runs (the worker answers between tokens) every 250 tokens, from token 300 (past the first full
  // collection, at 256) to the end.
  const fresh = createMlxProvider({ id: 'rss', models: { model: dir }, huggingFaceCache: false });
  await fresh.load('model');
  const samples = [];
  let count = 0;
  const rssStarted = performance.now();
  for await (const chunk of fresh.doStream(request(999, options.rssTokens), call())) {
    if (chunk.choices[0]?.delta?.content) count++;
    const due = count >= 300 + 250 * samples.length;
    if (due || (chunk.choices[0]?.finish_reason && samples.length > 0)) {
      const report = await fresh.memoryReport();
      samples.push({ at: count, rss: report.rss, kvCacheBytes: report.models.model.kvCacheBytes });
    }
  }
  const start = samples[0];
  const end = samples[samples.length - 1];
  const rss = {
    tokens: options.rssTokens,
    seconds: (performance.now() - rssStarted) / 1000,
    startMb: start.rss / 1e6,
    endMb: end.rss / 1e6,
    kvCacheGrowthMb: (end.kvCacheBytes - start.kvCacheBytes) / 1e6,
    samples,
    drift: (end.rss - start.rss) / start.rss,
    driftWithoutKvCache: (end.rss - start.rss - (end.kvCacheBytes - start.kvCacheBytes)) / start.rss,
  };
  await fresh.close();

  const summary = {};
  for (const [target, list] of Object.entries(runs)) {
    summary[target] = {
      prefill: median(list.map((run) => run.prefill)),
      decode: median(list.map((run) => run.decode)),
      decodeCpuMsPerToken: median(list.map((run) => run.decodeCpuMsPerToken)),
    };
  }
  return { dtype, weightMb, runs, summary, rss };
}

const root = mkdtempSync(join(os.tmpdir(), 'fusion-bench-mlx-'));
const started = new Date();
const results = [];
try {
  for (const dtype of options.dtypes) results.push(await benchDtype(dtype, root));
} finally {
  rmSync(root, { recursive: true, force: true });
}

const lines = [
  '| model (8 layers, hidden 512, vocab 32k) | target | prefill tok/s | × raw | decode tok/s | × raw | decode CPU ms/token | raw ÷ this |',
  '|---|---|---|---|---|---|---|---|',
];
const checks = [];
for (const result of results) {
  const raw = result.summary.raw;
  for (const target of ['raw', 'provider', 'orchestrator']) {
    const s = result.summary[target];
    const prefillRatio = s.prefill / raw.prefill;
    const decodeRatio = s.decode / raw.decode;
    const cpuRatio = raw.decodeCpuMsPerToken / s.decodeCpuMsPerToken;
    lines.push(
      `| ${result.dtype} (${result.weightMb.toFixed(0)} MB loaded) | ${target} | ${s.prefill.toFixed(1)} | ${prefillRatio.toFixed(2)} | ${s.decode.toFixed(2)} | ${decodeRatio.toFixed(2)} | ${s.decodeCpuMsPerToken.toFixed(1)} | ${cpuRatio.toFixed(2)} |`,
    );
    if (target !== 'raw') {
      checks.push([`${result.dtype} ${target} prefill ≥ 0.95× raw`, prefillRatio >= 0.95]);
      checks.push([`${result.dtype} ${target} decode ≥ 0.95× raw`, decodeRatio >= 0.95]);
      checks.push([`${result.dtype} ${target} decode CPU per token ≤ raw ÷ 0.95`, cpuRatio >= 0.95]);
    }
  }
}
lines.push(
  '',
  '| model | provider decode tok/s, free | json_schema constrained | × free | decode CPU ms/token, free | constrained | free ÷ constrained |',
  '|---|---|---|---|---|---|---|',
);
for (const result of results) {
  const free = result.summary.provider;
  const constrained = result.summary.constrained;
  const ratio = constrained.decode / free.decode;
  lines.push(
    `| ${result.dtype} | ${free.decode.toFixed(2)} | ${constrained.decode.toFixed(2)} | ${ratio.toFixed(2)} | ${free.decodeCpuMsPerToken.toFixed(1)} | ${constrained.decodeCpuMsPerToken.toFixed(1)} | ${(free.decodeCpuMsPerToken / constrained.decodeCpuMsPerToken).toFixed(2)} |`,
  );
  checks.push([`${result.dtype} json_schema constrained decode ≥ 0.8× free`, ratio >= 0.8]);
}
lines.push(
  '',
  '| model | tokens | worker RSS start → end (MB) | KV cache growth (MB) | drift | drift without KV cache |',
  '|---|---|---|---|---|---|',
);
for (const { dtype, rss } of results) {
  lines.push(
    `| ${dtype} | ${rss.tokens} | ${rss.startMb.toFixed(1)} → ${rss.endMb.toFixed(1)} | ${rss.kvCacheGrowthMb.toFixed(1)} | ${(rss.drift * 100).toFixed(1)}% | ${(rss.driftWithoutKvCache * 100).toFixed(1)}% |`,
  );
  checks.push([
    `${dtype} RSS over ${rss.tokens} tokens within ±5% (KV cache growth set aside)`,
    Math.abs(rss.driftWithoutKvCache) <= 0.05,
  ]);
}
console.log(`\n${lines.join('\n')}\n`);
for (const [label, pass] of checks) console.log(`${pass ? 'PASS' : 'MISS'}  ${label}`);

mkdirSync(fileURLToPath(new URL('../results/', import.meta.url)), { recursive: true });
writeFileSync(
  resultsFile,
  `${JSON.stringify(
    {
      benchmark: 'mlx',
      date: started.toISOString(),
      finished: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model,
        totalMemoryMb: Math.round(os.totalmem() / 1e6),
        loadAverage: os.loadavg(),
        platform: `${os.platform()} ${os.release()} ${os.arch()}`,
        node: process.version,
      },
      options,
      shape,
      results,
      checks: Object.fromEntries(checks),
      table: lines.join('\n'),
    },
    null,
    2,
  )}\n`,
);
console.log(`\nwrote ${resultsFile}`);
