/**
 * A chat model loaded in the worker: weights, tokenizer, chat template and its prompt cache, and the
 * generation loop (chunked prefill, KV-cached decoding, sampling, stop strings, streaming text).
 *
 * The loop awaits `setImmediate` after every token: node-mlx frees arrays in N-API finalizers, which
 * only run when the event loop turns (a synchronous loop grows by megabytes a token), and the
 * turn is where cancellation arrives. See also {@link collectAfterToken}.
 */

import { LogitsMask } from '../generation/logits-mask.js';
import { PromptCache } from '../generation/prompt-cache.js';
import { Sampler } from '../generation/sampler.js';
import { StopMatcher } from '../generation/stop-matcher.js';
import { OutputConstraints, type TokenConstraint } from '../grammar/output-constraints.js';
import type { ModelManifest } from '../loading/model-manifest.js';
import { type Mx, type MxArray, mlx } from '../mlx/mlx-binding.js';
import { CausalLm } from '../model/causal-lm.js';
import { ChatTemplate, type PromptMessage } from '../tokenizer/chat-template.js';
import { StreamingDetokenizer } from '../tokenizer/streaming-detokenizer.js';
import { TextTokenizer } from '../tokenizer/text-tokenizer.js';
import { collectAfterToken } from './memory-hygiene.js';
import type {
  GenerateParameters,
  GenerationResult,
  LoadedModelInfo,
  LoadOptions,
  ToolCallFormat,
} from './protocol.js';
import { WorkerError } from './worker-error.js';

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The tool-call format a chat template asks the model to use. */
export function detectToolFormat(template: string, modelType: string): ToolCallFormat {
  if (template.includes('<tool_call>')) return 'hermes';
  if (template.includes('[TOOL_CALLS]') || modelType === 'mistral') return 'mistral';
  if (modelType === 'llama') return 'llama3-json';
  return 'hermes';
}

export interface GenerateInput {
  messages: PromptMessage[];
  tools?: unknown[];
  templateKwargs?: Record<string, unknown>;
  parameters: GenerateParameters;
}

export class ChatModelHost {
  readonly model: CausalLm;
  readonly tokenizer: TextTokenizer;
  readonly template: ChatTemplate;
  readonly eosTokenIds: Set<number>;
  readonly info: LoadedModelInfo;
  readonly #manifest: ModelManifest;
  readonly #options: LoadOptions;
  readonly #mx: Mx;
  #cache: PromptCache;
  /** Grammars for `response_format`, built on first use (the vocabulary is read then). */
  #constraints: OutputConstraints | undefined;
  #logitsMask: LogitsMask | undefined;

  constructor(manifest: ModelManifest, options: LoadOptions) {
    const startedAt = performance.now();
    this.#mx = mlx();
    this.#manifest = manifest;
    this.#options = options;
    this.tokenizer = TextTokenizer.fromFiles(manifest.tokenizerFile, manifest.tokenizerConfig);
    const specialTokens: Record<string, string> = {};
    if (this.tokenizer.bosToken) specialTokens.bos_token = this.tokenizer.bosToken;
    if (this.tokenizer.eosToken) specialTokens.eos_token = this.tokenizer.eosToken;
    this.template = new ChatTemplate(manifest.chatTemplate, manifest.toolChatTemplate, specialTokens);
    const eos = new Set(manifest.eosTokenIds);
    const eosFromTokenizer = this.tokenizer.eosToken
      ? this.tokenizer.idOf(this.tokenizer.eosToken)
      : undefined;
    if (eosFromTokenizer !== undefined) eos.add(eosFromTokenizer);
    this.eosTokenIds = eos;
    this.model = CausalLm.load(manifest);
    this.#cache = new PromptCache(this.model.newCache(options.kvCacheStep));
    const config = this.model.config;
    this.info = {
      kind: 'chat',
      weightBytes: this.model.weights.bytes,
      contextLength: config.contextLength,
      toolFormat: detectToolFormat(this.template.source, config.modelType),
      reasoning: this.template.source.includes('<think>'),
      loadMs: Math.round(performance.now() - startedAt),
    };
  }

  get kvCacheBytes(): number {
    return this.#cache.bytes;
  }

  /** The prompt's token ids, as the model will see them. */
  promptTokens(input: Pick<GenerateInput, 'messages' | 'tools' | 'templateKwargs'>): number[] {
    let prompt: string;
    try {
      prompt = this.template.render(input.messages, {
        ...(input.tools ? { tools: input.tools } : {}),
        ...(input.templateKwargs ? { kwargs: input.templateKwargs } : {}),
      });
    } catch (error) {
      throw new WorkerError(
        'invalid_request',
        `The chat template refused the conversation: ${(error as Error).message}`,
      );
    }
    return this.tokenizer.encodePrompt(prompt);
  }

  /**
   * Generates an answer, calling `emit` with each piece of text. Stops at an end-of-sequence token,
   * a stop string, `maxTokens`, or when `cancelled()` turns true (checked between tokens).
   *
   * With `parameters.format`, each token is drawn from those that keep the answer valid JSON (of
   * the schema); an end-of-sequence token is allowed only once the JSON is complete, and then ends
   * the answer even with `ignoreEos`. In the last quarter of `maxTokens` the tokens that close the
   * JSON are preferred; the budget can still cut it short: `finishReason` is then `length` and the
   * text incomplete, as OpenAI's.
   */
  async generate(
    input: GenerateInput,
    emit: (text: string) => void,
    cancelled: () => boolean,
  ): Promise<GenerationResult> {
    const mx = this.#mx;
    const parameters = input.parameters;
    const prompt = this.promptTokens(input);
    const contextLength = this.model.config.contextLength;
    if (prompt.length >= contextLength) {
      throw new WorkerError(
        'context_length_exceeded',
        `The prompt has ${prompt.length} tokens; this model's context holds ${contextLength}.`,
      );
    }
    const maxTokens = Math.min(
      parameters.maxTokens ?? contextLength - prompt.length,
      contextLength - prompt.length,
    );
    const defaults = this.#manifest.generationDefaults;
    const sampler = new Sampler({
      temperature: parameters.temperature ?? defaults.temperature ?? 1,
      topP: parameters.topP ?? defaults.top_p ?? 1,
      topK: parameters.topK ?? defaults.top_k ?? 0,
      minP: parameters.minP ?? defaults.min_p ?? 0,
      repetitionPenalty: parameters.repetitionPenalty ?? defaults.repetition_penalty ?? 1,
      frequencyPenalty: parameters.frequencyPenalty ?? 0,
      presencePenalty: parameters.presencePenalty ?? 0,
      ...(parameters.logitBias ? { logitBias: parameters.logitBias } : {}),
      ...(parameters.seed !== undefined ? { seed: parameters.seed } : {}),
    });
    const constraint = parameters.format
      ? await this.#outputConstraints().start(parameters.format)
      : undefined;
    // The last quarter of the budget (16 tokens at least) steers a constrained answer to its end.
    const closingFrom = maxTokens - Math.max(16, Math.floor(maxTokens / 4));
    const cache = this.#cache;
    const cachedTokens = cache.reuse(prompt);
    const usage = { promptTokens: prompt.length, completionTokens: 0, cachedTokens };
    const done = (finishReason: GenerationResult['finishReason']): GenerationResult => ({
      finishReason,
      usage,
      kvCacheBytes: cache.bytes,
    });

    try {
      let logits = await this.#prefill(prompt.slice(cachedTokens), cancelled);
      if (!logits) return done('stop');
      const detokenizer = new StreamingDetokenizer((ids) => this.tokenizer.decode(ids));
      const stopper = new StopMatcher(parameters.stop ?? []);
      const generated: number[] = [];
      /** Emits what the detokenizer and stop strings release; true when a stop string was reached. */
      const send = (text: string, final: boolean): boolean => {
        const { text: out, stopped } = stopper.push(text);
        const rest = final && !stopped ? stopper.flush() : '';
        if (out || rest) emit(out + rest);
        return stopped;
      };
      while (true) {
        const token = constraint
          ? await this.#constrainedToken(
              constraint,
              sampler,
              logits,
              generated,
              generated.length >= closingFrom,
            )
          : sampler.needsLogits
            ? sampler.sample(logits.tolist() as number[], generated)
            : (mx.argmax(logits).item() as number);
        if (this.eosTokenIds.has(token) && (!parameters.ignoreEos || constraint)) {
          send(detokenizer.flush(), true);
          return done('stop');
        }
        constraint?.accept(token);
        generated.push(token);
        usage.completionTokens++;
        if (send(detokenizer.push(token), false)) return done('stop');
        if (generated.length >= maxTokens) {
          return done(send(detokenizer.flush(), true) ? 'stop' : 'length');
        }
        logits = this.model.forward([token], cache.layers);
        // Evaluating the cache buffers themselves (not only views of them) lets the next update
        // write in place instead of copying them.
        mx.eval(logits, ...cache.layers.flatMap((layer) => layer.state()));
        cache.tokens.push(token);
        collectAfterToken();
        await yieldToEventLoop();
        if (cancelled()) return done('stop');
      }
    } catch (error) {
      // Whatever the cache holds now may not match its token list.
      cache.trim(0);
      throw error;
    } finally {
      constraint?.dispose();
    }
  }

  /** The next token, drawn from those the grammar allows. */
  async #constrainedToken(
    constraint: TokenConstraint,
    sampler: Sampler,
    logits: MxArray,
    generated: number[],
    closing: boolean,
  ): Promise<number> {
    const allowed = await constraint.allowed(closing);
    this.#logitsMask ??= new LogitsMask(this.#mx, this.model.config.vocabSize);
    const masked = this.#logitsMask.apply(logits, allowed);
    return sampler.needsLogits
      ? sampler.sample(masked.tolist() as number[], generated)
      : (this.#mx.argmax(masked).item() as number);
  }

  #outputConstraints(): OutputConstraints {
    this.#constraints ??= new OutputConstraints({
      vocabulary: () => this.tokenizer.vocabulary(),
      logitsSize: this.model.config.vocabSize,
      stopTokenIds: [...this.eosTokenIds],
    });
    return this.#constraints;
  }

  /** Runs the prompt through the model in chunks; returns the last position's logits. */
  async #prefill(tokens: number[], cancelled: () => boolean): Promise<MxArray | undefined> {
    const mx = this.#mx;
    const cache = this.#cache;
    const chunkSize = this.#options.prefillChunkSize;
    let logits: MxArray | undefined;
    for (let start = 0; start < tokens.length; start += chunkSize) {
      const chunk = tokens.slice(start, start + chunkSize);
      logits = this.model.forward(chunk, cache.layers);
      mx.eval(logits, ...cache.layers.flatMap((layer) => layer.state()));
      cache.tokens.push(...chunk);
      await yieldToEventLoop();
      if (cancelled()) return undefined;
    }
    return logits;
  }
}
