import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidRequestError } from '@fusionkit/core';
import { getEncodingNameForModel, type TiktokenModel } from 'js-tiktoken/lite';
import { TiktokenCounter } from './tiktoken-counter.js';
import {
  isTokenizerPath,
  loadTokenizerFile,
  loadTokenizerFileSync,
  resolveTokenizerFile,
  resolveTokenizerFileSync,
} from './tokenizer-file.js';

/** Encodings `js-tiktoken` ships, by name. */
const ENCODINGS = ['o200k_base', 'cl100k_base', 'p50k_base', 'p50k_edit', 'r50k_base', 'gpt2'] as const;
type EncodingName = (typeof ENCODINGS)[number];

type Count = (text: string) => number;

/** Loaded tokenizers, by encoding name or absolute `tokenizer.json` path. */
const loaded = new Map<string, Count>();
/** Loads under way, by the same keys. */
const loading = new Map<string, Promise<Count>>();

function encodingName(tokenizer: string): EncodingName | undefined {
  if ((ENCODINGS as readonly string[]).includes(tokenizer)) return tokenizer as EncodingName;
  try {
    return getEncodingNameForModel(tokenizer as TiktokenModel);
  } catch {
    return undefined;
  }
}

/**
 * Whether a setting names a file or folder: it looks like a path, or it is no known name but a file
 * or folder of that name exists (`--tokenizer my-model` in the folder holding `my-model/`).
 */
function namesPath(tokenizer: string, cwd?: string): boolean {
  if (typeof tokenizer !== 'string') return false;
  if (isTokenizerPath(tokenizer)) return true;
  return encodingName(tokenizer) === undefined && existsSync(cwd ? resolve(cwd, tokenizer) : tokenizer);
}

function countWith(counter: TiktokenCounter): Count {
  return (text) => counter.count(text);
}

function knownEncoding(tokenizer: string, param: string): EncodingName {
  const name = typeof tokenizer === 'string' ? encodingName(tokenizer) : undefined;
  if (!name) {
    throw new InvalidRequestError(
      `Unknown tokenizer ${JSON.stringify(tokenizer)}: name an OpenAI model (e.g. 'gpt-4o', 'text-embedding-3-small'), an encoding (${ENCODINGS.join(', ')}), or a local Hugging Face tokenizer.json (or the folder holding it).`,
      { code: 'unknown_tokenizer', param },
    );
  }
  return name;
}

/** A tokenizer ready to count, and the setting to record for it. */
export interface LoadedTokenizer {
  /** The model or encoding name as given, or the absolute path of the `tokenizer.json`. */
  tokenizer: string;
  countTokens: Count;
}

/**
 * Loads a tokenizer without holding the event loop for long (what a server should call before
 * splitting): a `js-tiktoken` rank table is built in slices between event-loop turns; a
 * `tokenizer.json` is read asynchronously (its parse stays synchronous). Later
 * {@link countTokensWith} calls for it return at once. An unknown name, a missing file or a file that
 * is no tokenizer is a 400 naming `param`.
 * @example await loadTokenizer('./models/qwen2.5-0.5b', 'splitter.tokenizer')
 */
export async function loadTokenizer(tokenizer: string, param = 'tokenizer'): Promise<LoadedTokenizer> {
  const path = namesPath(tokenizer);
  const key = path ? await resolveTokenizerFile(tokenizer, param) : knownEncoding(tokenizer, param);
  let count = loaded.get(key);
  if (!count) {
    let pending = loading.get(key);
    if (!pending) {
      pending = (async () => {
        try {
          const done = path
            ? await loadTokenizerFile(key, param)
            : countWith(await TiktokenCounter.load(key as EncodingName));
          loaded.set(key, done);
          return done;
        } finally {
          loading.delete(key);
        }
      })();
      loading.set(key, pending);
    }
    count = await pending;
  }
  return { tokenizer: path ? key : tokenizer, countTokens: count };
}

/**
 * The setting a collection records for a tokenizer, without loading it: a known name as given, a
 * path as the absolute path of its `tokenizer.json` (a relative path resolves against `cwd`). An
 * unknown name or a missing file is a 400 naming `param`.
 * @example await resolveTokenizer('models/qwen') // '/home/me/models/qwen/tokenizer.json'
 */
export async function resolveTokenizer(
  tokenizer: string,
  options: {
    /** The field named by errors. @default 'tokenizer' */
    param?: string;
    /** What a relative path is relative to. @default process.cwd() */
    cwd?: string;
  } = {},
): Promise<string> {
  const { param = 'tokenizer', cwd } = options;
  if (namesPath(tokenizer, cwd)) {
    return resolveTokenizerFile(cwd ? resolve(cwd, tokenizer) : tokenizer, param, tokenizer);
  }
  knownEncoding(tokenizer, param);
  return tokenizer;
}

/** Whether a tokenizer (its encoding name or resolved file) is being loaded; for tests and probes. */
export function isTokenizerLoading(tokenizer: string): boolean {
  return [...loading.keys()].some((key) => key === tokenizer || key === encodingName(tokenizer));
}

/**
 * Token counting with the tokenizer of a named model, from the encodings `js-tiktoken` ships (no
 * download): an OpenAI model name (`gpt-4o`, `gpt-4`, `text-embedding-3-small`, …) or an encoding
 * name (`o200k_base`, `cl100k_base`, …); or with a local Hugging Face `tokenizer.json` (a path, or
 * the folder holding one). The table is loaded on first use and kept: synchronously here, unless
 * {@link loadTokenizer} loaded it before. An unknown name or a missing file is a 400 naming `param`.
 * @example countTokensWith('gpt-4o')('Hello world') // 2
 */
export function countTokensWith(tokenizer: string, param = 'tokenizer'): Count {
  const path = namesPath(tokenizer);
  const key = path ? resolveTokenizerFileSync(tokenizer, param) : knownEncoding(tokenizer, param);
  let count = loaded.get(key);
  if (!count) {
    if (path) count = loadTokenizerFileSync(key, param);
    else count = countWith(TiktokenCounter.loadSync(key));
    loaded.set(key, count);
  }
  return count;
}

/** Whether a tokenizer name is known, or a setting is a `tokenizer.json` path (no file is read). */
export function isKnownTokenizer(tokenizer: string): boolean {
  return isTokenizerPath(tokenizer) || encodingName(tokenizer) !== undefined;
}
