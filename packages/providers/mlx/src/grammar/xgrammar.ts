/**
 * xgrammar (`@mlc-ai/web-xgrammar`, the WebAssembly build of the grammar engine mlx-lm, vLLM and
 * SGLang use) for the worker: JSON schemas become grammars, and a matcher gives the bitmask of the
 * tokens that keep the output valid, per token, over the tokenizer's real vocabulary.
 *
 * Its package declares `"type": "module"` but ships a UMD bundle that needs CommonJS's `require`
 * and `__filename` in Node, so `import` cannot load it: the bundle is run here once per process,
 * on first use, with those in scope. Only the parts this package calls are typed.
 */
import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';

/** Node's CommonJS module internals that compile a module from its source. */
interface CommonJsModule {
  exports: unknown;
  filename: string;
  paths: string[];
  _compile(source: string, filename: string): void;
}
type CommonJsModuleClass = (new (
  id: string,
) => CommonJsModule) & {
  _nodeModulePaths(directory: string): string[];
};

export interface XgrammarTokenizerInfo {
  dispose(): void;
}

export interface XgrammarCompiledGrammar {
  dispose(): void;
}

export interface XgrammarCompiler {
  compileJSONSchema(
    schema: string,
    anyWhitespace?: boolean,
    indent?: number,
    separators?: [string, string],
    strictMode?: boolean,
    maxWhitespaceCnt?: number,
  ): Promise<XgrammarCompiledGrammar>;
  dispose(): void;
}

export interface XgrammarMatcher {
  /** One bit per token id (32 per word); a set bit allows the token. */
  getNextTokenBitmask(): Promise<Int32Array>;
  acceptToken(tokenId: number): boolean;
  isTerminated(): boolean;
  dispose(): void;
}

export interface Xgrammar {
  TokenizerInfo: {
    createTokenizerInfo(
      encodedVocab: string[],
      vocabType?: 'byte_level' | 'byte_fallback' | 'raw',
      prependSpaceInTokenization?: boolean,
      vocabSize?: number,
      stopTokenIds?: number[],
    ): Promise<XgrammarTokenizerInfo>;
  };
  GrammarCompiler: {
    createGrammarCompiler(info: XgrammarTokenizerInfo, cacheEnabled?: boolean): Promise<XgrammarCompiler>;
  };
  GrammarMatcher: {
    createGrammarMatcher(
      grammar: XgrammarCompiledGrammar,
      overrideStopTokens?: number[],
      terminateWithoutStopToken?: boolean,
    ): Promise<XgrammarMatcher>;
  };
}

let loaded: Xgrammar | undefined;

export function xgrammar(): Xgrammar {
  if (!loaded) {
    const require = createRequire(import.meta.url);
    const file = require.resolve('@mlc-ai/web-xgrammar');
    // Compiled as the CommonJS module its bundle is written as (it also imports dynamically).
    const ModuleClass = Module as unknown as CommonJsModuleClass;
    const module = new ModuleClass(file);
    module.filename = file;
    module.paths = ModuleClass._nodeModulePaths(dirname(file));
    module._compile(readFileSync(file, 'utf8'), file);
    loaded = module.exports as Xgrammar;
  }
  return loaded;
}

/** Where xgrammar's error output goes while {@link explainXgrammarFailure} listens. */
let listener: ((line: string) => void) | undefined;

/**
 * Runs xgrammar's first call, which starts its WebAssembly runtime: the runtime binds
 * `console.error` then, and gets one that {@link explainXgrammarFailure} can listen to.
 */
export async function routeXgrammarOutput<T>(call: () => Promise<T>): Promise<T> {
  const original = console.error;
  console.error = (...parts: unknown[]) => {
    if (listener) listener(parts.map(String).join(' '));
    else original(...parts);
  };
  try {
    return await call();
  } finally {
    console.error = original;
  }
}

/**
 * Runs an xgrammar call, turning its failures into errors that say why. xgrammar reports a bad
 * grammar by printing `[FATAL] file:line: reason` and aborting the call (a `RuntimeError:
 * Aborted()`); the reason is kept from what it prints meanwhile.
 */
export async function explainXgrammarFailure<T>(call: () => Promise<T>): Promise<T> {
  const printed: string[] = [];
  listener = (line) => printed.push(line);
  try {
    return await call();
  } catch (error) {
    const fatal = printed
      .map((line) => /\[FATAL\][^:]*:\d+:\s*(.*)/.exec(line)?.[1])
      .find((reason) => reason !== undefined);
    throw new Error(fatal ?? (error instanceof Error ? error.message : String(error)));
  } finally {
    listener = undefined;
  }
}
