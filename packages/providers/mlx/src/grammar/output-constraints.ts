/**
 * Constrained decoding for one chat model: a `response_format` becomes an xgrammar grammar over
 * the model's real vocabulary (compiled once per schema and kept), and each generation gets a
 * {@link TokenConstraint} that masks the logits to the tokens keeping the output valid.
 *
 * The grammar asks for compact JSON (no whitespace between tokens, `,` and `:` as separators) and,
 * for `json_schema`, no properties or items beyond the schema's (strict mode, as OpenAI's
 * structured outputs): every token a model spends goes into the answer.
 */
import type { TokenizerVocabulary } from '../tokenizer/text-tokenizer.js';
import { WorkerError } from '../worker/worker-error.js';
import { ClosingPreference } from './closing-preference.js';
import { tokenBytes, Utf8TokenFilter } from './utf8-token-filter.js';
import {
  explainXgrammarFailure,
  routeXgrammarOutput,
  type XgrammarCompiledGrammar,
  type XgrammarCompiler,
  type XgrammarMatcher,
  xgrammar,
} from './xgrammar.js';

/** What the answer must be. */
export type OutputFormat =
  | { type: 'json_object' }
  | { type: 'json_schema'; schema: Record<string, unknown> | boolean };

/** Compiled grammars kept per model (the least recently used go first). */
const MAX_GRAMMARS = 32;

export interface OutputConstraintsOptions {
  /** Called once, when the first constrained generation needs the vocabulary. */
  vocabulary: () => TokenizerVocabulary;
  /** Size of the model's logits (its vocabulary may be padded past the tokenizer's). */
  logitsSize: number;
  /** Tokens that end an answer: allowed only where the output is complete. */
  stopTokenIds: number[];
}

export class OutputConstraints {
  readonly #options: OutputConstraintsOptions;
  #compiler: Promise<XgrammarCompiler> | undefined;
  #filter: Utf8TokenFilter | undefined;
  #closing: ClosingPreference | undefined;
  readonly #grammars = new Map<string, Promise<XgrammarCompiledGrammar>>();

  constructor(options: OutputConstraintsOptions) {
    this.#options = options;
  }

  /** A constraint for one generation, at the start of the answer. */
  async start(format: OutputFormat): Promise<TokenConstraint> {
    const grammar = await this.#grammar(format);
    const matcher = await xgrammar().GrammarMatcher.createGrammarMatcher(grammar, this.#options.stopTokenIds);
    return new TokenConstraint(matcher, this.#filter!, this.#closing!);
  }

  #grammar(format: OutputFormat): Promise<XgrammarCompiledGrammar> {
    const key = format.type === 'json_schema' ? JSON.stringify(format.schema) : 'json_object';
    const known = this.#grammars.get(key);
    if (known) {
      this.#grammars.delete(key);
      this.#grammars.set(key, known);
      return known;
    }
    const compiled = this.#compile(key, format);
    this.#grammars.set(key, compiled);
    // A schema that failed is not kept: the next request gets the same error, compiled again.
    compiled.catch(() => this.#grammars.delete(key));
    while (this.#grammars.size > MAX_GRAMMARS) {
      const oldest = this.#grammars.keys().next().value as string;
      const evicted = this.#grammars.get(oldest)!;
      this.#grammars.delete(oldest);
      evicted.then((grammar) => grammar.dispose()).catch(() => {});
    }
    return compiled;
  }

  async #compile(schema: string, format: OutputFormat): Promise<XgrammarCompiledGrammar> {
    const compiler = await this.#compilerOnce();
    try {
      return await explainXgrammarFailure(() =>
        format.type === 'json_schema'
          ? compiler.compileJSONSchema(schema, false, -1, [',', ':'], true)
          : // OpenAI's JSON mode: an object, any properties.
            compiler.compileJSONSchema('{"type":"object"}', false, -1, [',', ':'], false),
      );
    } catch (error) {
      throw new WorkerError(
        'unsupported_schema',
        `The JSON schema cannot be enforced: ${(error as Error).message}`,
        400,
      );
    }
  }

  #compilerOnce(): Promise<XgrammarCompiler> {
    this.#compiler ??= (async () => {
      const vocabulary = this.#options.vocabulary();
      const { tokens, type, prependsSpace } = vocabulary;
      const size = Math.max(this.#options.logitsSize, tokens.length);
      const bytes = tokenBytes(vocabulary);
      this.#filter = new Utf8TokenFilter(bytes, size);
      this.#closing = new ClosingPreference(bytes, Math.ceil(size / 32), this.#options.stopTokenIds);
      const engine = xgrammar();
      const info = await routeXgrammarOutput(() =>
        engine.TokenizerInfo.createTokenizerInfo(
          tokens,
          type,
          prependsSpace,
          size,
          this.#options.stopTokenIds,
        ),
      );
      return engine.GrammarCompiler.createGrammarCompiler(info);
    })();
    return this.#compiler;
  }
}

/** The grammar's state in one generation. */
export class TokenConstraint {
  readonly #matcher: XgrammarMatcher;
  readonly #filter: Utf8TokenFilter;
  readonly #closing: ClosingPreference;
  #utf8: number;

  constructor(matcher: XgrammarMatcher, filter: Utf8TokenFilter, closing: ClosingPreference) {
    this.#matcher = matcher;
    this.#filter = filter;
    this.#closing = closing;
    this.#utf8 = filter.start;
  }

  /**
   * The tokens that may come next: bit `id` (32 per word) set for each. `closing` (near the end of
   * the token budget) keeps only those that bring the JSON closest to its end (see
   * {@link ClosingPreference}).
   */
  async allowed(closing = false): Promise<Int32Array> {
    const bitmask = (await this.#matcher.getNextTokenBitmask()).slice();
    this.#filter.restrict(bitmask, this.#utf8);
    if (closing) this.#closing.restrict(bitmask);
    return bitmask;
  }

  /** Sets the logits of the tokens that cannot come next to -Infinity, in place. */
  async mask(logits: Float32Array | Float64Array | number[]): Promise<void> {
    applyTokenBitmask(logits, await this.allowed());
  }

  /** Moves past a token the mask allowed. */
  accept(token: number): void {
    if (!this.#matcher.acceptToken(token)) {
      throw new WorkerError('worker_error', `The grammar refused token ${token} that its mask allowed.`, 500);
    }
    this.#utf8 = this.#filter.next(this.#utf8, token);
  }

  dispose(): void {
    this.#matcher.dispose();
  }
}

/** Sets `values[id]` to -Infinity where bit `id` of `bitmask` (32 per word) is clear. */
export function applyTokenBitmask(values: Float32Array | Float64Array | number[], bitmask: Int32Array): void {
  for (let word = 0; word < bitmask.length; word++) {
    const bits = bitmask[word]!;
    if (bits === -1) continue;
    const start = word * 32;
    const end = Math.min(start + 32, values.length);
    for (let id = start; id < end; id++) {
      if (((bits >>> (id - start)) & 1) === 0) values[id] = Number.NEGATIVE_INFINITY;
    }
  }
}
