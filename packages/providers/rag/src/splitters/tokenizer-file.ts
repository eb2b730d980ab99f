import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { InvalidRequestError } from '@fusionkit/core';
import { Tokenizer } from '@huggingface/tokenizers';

/**
 * Whether a tokenizer setting names a local Hugging Face `tokenizer.json` (or the folder holding
 * one, such as a local MLX model) rather than a `js-tiktoken` model or encoding name: it has a path
 * separator or ends in `.json`. Nothing is fetched from a model hub.
 * @example isTokenizerPath('./models/qwen2.5-0.5b') // true
 * @example isTokenizerPath('gpt-4o') // false
 */
export function isTokenizerPath(tokenizer: string): boolean {
  return /[\\/]/.test(tokenizer) || tokenizer.endsWith('.json') || tokenizer === '.' || tokenizer === '..';
}

function refuse(param: string, code: string, message: string): InvalidRequestError {
  return new InvalidRequestError(message, { code, param });
}

/** The absolute path of the `tokenizer.json` a path names (itself, or inside the folder it names). */
function tokenizerFile(path: string, isDirectory: boolean): string {
  return isDirectory ? join(path, 'tokenizer.json') : path;
}

function unreadable(file: string, param: string): InvalidRequestError {
  return refuse(
    param,
    'tokenizer_not_found',
    `${basename(file)} could not be read: give a readable tokenizer.json.`,
  );
}

function checkFile(given: string, file: string, isFile: boolean, param: string): string {
  if (!isFile) {
    throw refuse(
      param,
      'tokenizer_not_found',
      `No tokenizer file at ${JSON.stringify(given)}: give a Hugging Face tokenizer.json or a folder holding one (files are read locally; no model hub is contacted).`,
    );
  }
  if (!file.endsWith('.json')) {
    throw refuse(
      param,
      'invalid_tokenizer',
      `${JSON.stringify(given)} is not a .json file: give a tokenizer.json.`,
    );
  }
  return file;
}

/** {@link resolveTokenizerFile}, synchronously. */
export function resolveTokenizerFileSync(given: string, param = 'tokenizer'): string {
  const path = resolve(given);
  const info = statSync(path, { throwIfNoEntry: false });
  const file = tokenizerFile(path, info?.isDirectory() ?? false);
  const fileInfo = info?.isDirectory() ? statSync(file, { throwIfNoEntry: false }) : info;
  return checkFile(given, file, fileInfo?.isFile() ?? false, param);
}

/**
 * The absolute path of the `tokenizer.json` a setting names (a relative path is resolved against the
 * working directory): what a collection records. A missing file is a 400 `tokenizer_not_found`
 * naming `param`; messages show `given`, the setting as the user wrote it.
 */
export async function resolveTokenizerFile(path: string, param = 'tokenizer', given = path): Promise<string> {
  const absolute = resolve(path);
  const info = await stat(absolute).catch(() => undefined);
  const file = tokenizerFile(absolute, info?.isDirectory() ?? false);
  const fileInfo = info?.isDirectory() ? await stat(file).catch(() => undefined) : info;
  return checkFile(given, file, fileInfo?.isFile() ?? false, param);
}

/** `tokenizer_config.json` next to the tokenizer, when there is a readable one. */
function parseConfig(text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  try {
    const config = JSON.parse(text) as unknown;
    return config && typeof config === 'object' && !Array.isArray(config)
      ? (config as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/** A token counter from the texts of `tokenizer.json` and `tokenizer_config.json`. */
function counterOf(
  file: string,
  json: string,
  configText: string | undefined,
  param: string,
): (text: string) => number {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    // The parser's message quotes the file; it is not echoed to a client.
    throw refuse(
      param,
      'invalid_tokenizer',
      `${basename(file)} is not valid JSON: give a Hugging Face tokenizer.json.`,
    );
  }
  const model = (parsed as { model?: unknown } | null)?.model;
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || !model || typeof model !== 'object') {
    throw refuse(
      param,
      'invalid_tokenizer',
      `${basename(file)} is not a Hugging Face tokenizer.json (it has no 'model').`,
    );
  }
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(parsed, parseConfig(configText));
    tokenizer.encode('a', { add_special_tokens: false });
  } catch (error) {
    throw refuse(
      param,
      'invalid_tokenizer',
      `${basename(file)} could not be loaded as a Hugging Face tokenizer: ${(error as Error).message}`,
    );
  }
  // Special tokens the document happens to contain are counted as the tokenizer splits them.
  return (text) => tokenizer.encode(text, { add_special_tokens: false }).ids.length;
}

/** Loads a `tokenizer.json` (an absolute path from {@link resolveTokenizerFile}) synchronously. */
export function loadTokenizerFileSync(file: string, param = 'tokenizer'): (text: string) => number {
  const configFile = join(dirname(file), 'tokenizer_config.json');
  let configText: string | undefined;
  try {
    configText = readFileSync(configFile, 'utf8');
  } catch {
    configText = undefined;
  }
  let json: string;
  try {
    json = readFileSync(file, 'utf8');
  } catch {
    throw unreadable(file, param);
  }
  return counterOf(file, json, configText, param);
}

/**
 * Loads a `tokenizer.json`: the files are read without blocking; parsing and building the
 * vocabulary stay synchronous (`@huggingface/tokenizers` builds in one step).
 */
export async function loadTokenizerFile(
  file: string,
  param = 'tokenizer',
): Promise<(text: string) => number> {
  const [json, configText] = await Promise.all([
    readFile(file, 'utf8').catch(() => {
      throw unreadable(file, param);
    }),
    readFile(join(dirname(file), 'tokenizer_config.json'), 'utf8').catch(() => undefined),
  ]);
  return counterOf(file, json, configText, param);
}
