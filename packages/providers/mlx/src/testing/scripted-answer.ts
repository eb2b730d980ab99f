/**
 * Builds the `script` of a scripted tiny model: the token its family's chat template ends the
 * prompt with, the tokens of the answer (each piece encoded on its own), and the end token.
 */
import { ChatTemplate } from '../tokenizer/chat-template.js';
import { TextTokenizer } from '../tokenizer/text-tokenizer.js';
import { LLAMA3_TEMPLATE, MISTRAL_TEMPLATE, QWEN2_TEMPLATE, QWEN3_TEMPLATE } from './tiny-chat-templates.js';
import {
  type TinyArchitecture,
  type TinyChatModelOptions,
  tinyTokenizerFor,
  writeTinyChatModel,
} from './tiny-model.js';
import type { SpecialToken } from './tiny-tokenizer.js';

const templates = {
  llama: LLAMA3_TEMPLATE,
  mistral: MISTRAL_TEMPLATE,
  qwen2: QWEN2_TEMPLATE,
  qwen3: QWEN3_TEMPLATE,
};
const ends = { llama: '<|eot_id|>', mistral: '</s>', qwen2: '<|im_end|>', qwen3: '<|im_end|>' };

export function scriptedAnswer(
  architecture: TinyArchitecture,
  pieces: string[],
  extraTokens: (string | SpecialToken)[] = [],
): NonNullable<TinyChatModelOptions['script']> {
  const tiny = tinyTokenizerFor(architecture, extraTokens);
  const special = {
    bos_token: architecture === 'llama' ? '<|begin_of_text|>' : '<s>',
    eos_token: ends[architecture],
  };
  const tokenizer = new TextTokenizer(tiny.tokenizer, special);
  const prompt = new ChatTemplate(templates[architecture], undefined, special).render([
    { role: 'user', content: 'Hi' },
  ]);
  const promptIds = tokenizer.encodePrompt(prompt);
  return {
    after: promptIds[promptIds.length - 1]!,
    tokens: pieces.flatMap((piece) => tokenizer.encode(piece, false)),
    eos: tiny.ids[ends[architecture]]!,
  };
}

/** Writes a scripted model of `architecture` that answers `pieces` (tokens added for them as asked). */
export function writeScriptedModel(
  path: string,
  architecture: TinyArchitecture,
  pieces: string[],
  extraTokens: (string | SpecialToken)[] = [],
  options: Partial<TinyChatModelOptions> = {},
) {
  return writeTinyChatModel(path, {
    architecture,
    extraTokens,
    script: scriptedAnswer(architecture, pieces, extraTokens),
    ...options,
  });
}
