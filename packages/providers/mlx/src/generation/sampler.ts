/**
 * Next-token choice in JavaScript: logit bias, repetition / frequency / presence penalties,
 * temperature, top-k, top-p, min-p, and a seeded generator so that a `seed` repeats an answer.
 */

/** Sampling settings, in OpenAI / mlx-lm terms. */
export interface SamplingOptions {
  /** 0 picks the most likely token. @default 1 */
  temperature?: number;
  /** Nucleus: keep the most likely tokens whose probabilities sum to this. @default 1 */
  topP?: number;
  /** Keep only the k most likely tokens; 0 keeps all. @default 0 */
  topK?: number;
  /** Drop tokens less likely than this fraction of the most likely one. @default 0 */
  minP?: number;
  /** Divides positive (multiplies negative) logits of recently seen tokens. @default 1 */
  repetitionPenalty?: number;
  /** How many recent tokens the repetition penalty looks at. @default 64 */
  repetitionContextSize?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  logitBias?: Record<string, number>;
  seed?: number;
}

/** mulberry32: small, fast, and good enough to sample tokens. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Sampler {
  readonly #options: Required<Omit<SamplingOptions, 'logitBias' | 'seed'>> & {
    logitBias?: Record<string, number>;
  };
  readonly #random: () => number;
  /** Whether the logits must come to JavaScript; otherwise the argmax runs in MLX. */
  readonly needsLogits: boolean;

  constructor(options: SamplingOptions = {}) {
    this.#options = {
      temperature: options.temperature ?? 1,
      topP: options.topP ?? 1,
      topK: options.topK ?? 0,
      minP: options.minP ?? 0,
      repetitionPenalty: options.repetitionPenalty ?? 1,
      repetitionContextSize: options.repetitionContextSize ?? 64,
      frequencyPenalty: options.frequencyPenalty ?? 0,
      presencePenalty: options.presencePenalty ?? 0,
      ...(options.logitBias ? { logitBias: options.logitBias } : {}),
    };
    this.#random = createRandom(options.seed ?? Math.floor(Math.random() * 2 ** 32));
    const o = this.#options;
    this.needsLogits =
      o.temperature > 0 ||
      o.repetitionPenalty !== 1 ||
      o.frequencyPenalty !== 0 ||
      o.presencePenalty !== 0 ||
      (o.logitBias !== undefined && Object.keys(o.logitBias).length > 0);
  }

  /** Picks the next token from `logits`, given the tokens generated so far (`history`). */
  sample(logits: ArrayLike<number>, history: readonly number[]): number {
    const o = this.#options;
    const values = Float64Array.from(logits);
    if (o.logitBias) {
      for (const [token, bias] of Object.entries(o.logitBias)) {
        const id = Number(token);
        if (id >= 0 && id < values.length) values[id]! += bias;
      }
    }
    if (o.repetitionPenalty !== 1) {
      const recent = new Set(history.slice(-o.repetitionContextSize));
      for (const id of recent) {
        const value = values[id]!;
        values[id] = value > 0 ? value / o.repetitionPenalty : value * o.repetitionPenalty;
      }
    }
    if (o.frequencyPenalty !== 0 || o.presencePenalty !== 0) {
      const counts = new Map<number, number>();
      for (const id of history) counts.set(id, (counts.get(id) ?? 0) + 1);
      for (const [id, count] of counts) values[id]! -= o.frequencyPenalty * count + o.presencePenalty;
    }
    if (o.temperature <= 0) return argmax(values);
    return this.#draw(values);
  }

  #draw(logits: Float64Array): number {
    const o = this.#options;
    let max = Number.NEGATIVE_INFINITY;
    for (const value of logits) if (value > max) max = value;
    const probabilities = new Float64Array(logits.length);
    let total = 0;
    for (let i = 0; i < logits.length; i++) {
      const p = Math.exp((logits[i]! - max) / o.temperature);
      probabilities[i] = p;
      total += p;
    }
    // Unnormalised, the most likely token weighs exactly 1: min-p compares with its weight directly.
    const floor = Math.max(o.minP, 0);
    let candidates: number[] = [];
    for (let i = 0; i < probabilities.length; i++) {
      if (probabilities[i]! > 0 && probabilities[i]! >= floor) candidates.push(i);
    }
    if (o.topK > 0 || o.topP < 1) {
      candidates.sort((a, b) => probabilities[b]! - probabilities[a]! || a - b);
      if (o.topK > 0) candidates = candidates.slice(0, o.topK);
      if (o.topP < 1) {
        let mass = 0;
        let keep = 0;
        while (keep < candidates.length && mass < o.topP * total) mass += probabilities[candidates[keep++]!]!;
        candidates = candidates.slice(0, Math.max(1, keep));
      }
    }
    let sum = 0;
    for (const id of candidates) sum += probabilities[id]!;
    let threshold = this.#random() * sum;
    for (const id of candidates) {
      threshold -= probabilities[id]!;
      if (threshold <= 0) return id;
    }
    return candidates[candidates.length - 1]!;
  }
}

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
