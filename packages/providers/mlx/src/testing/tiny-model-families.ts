/**
 * What each tiny model family looks like besides its weights: tokenizer kind and special tokens,
 * end tokens, chat template, `tokenizer_config.json`.
 */
import { LLAMA3_TEMPLATE, MISTRAL_TEMPLATE, QWEN2_TEMPLATE, QWEN3_TEMPLATE } from './tiny-chat-templates.js';
import { buildTinyTokenizer, type SpecialToken } from './tiny-tokenizer.js';

export type TinyArchitecture = 'llama' | 'mistral' | 'qwen2' | 'qwen3';

export interface FamilyDefaults {
  kind: 'byte-level' | 'metaspace';
  addedTokens: (string | SpecialToken)[];
  bosToken?: string;
  eos: string[];
  template: string;
  tokenizerConfig: Record<string, unknown>;
}

export function family(architecture: TinyArchitecture): FamilyDefaults {
  const chatml: (string | SpecialToken)[] = [
    '<|endoftext|>',
    '<|im_start|>',
    '<|im_end|>',
    { content: '<tool_call>', special: false },
    { content: '</tool_call>', special: false },
    { content: '<think>', special: false },
    { content: '</think>', special: false },
  ];
  switch (architecture) {
    case 'qwen2':
    case 'qwen3':
      return {
        kind: 'byte-level',
        addedTokens: chatml,
        eos: ['<|im_end|>', '<|endoftext|>'],
        template: architecture === 'qwen3' ? QWEN3_TEMPLATE : QWEN2_TEMPLATE,
        tokenizerConfig: { bos_token: null, eos_token: '<|im_end|>', pad_token: '<|endoftext|>' },
      };
    case 'llama':
      return {
        kind: 'byte-level',
        addedTokens: [
          '<|begin_of_text|>',
          '<|end_of_text|>',
          '<|start_header_id|>',
          '<|end_header_id|>',
          '<|eot_id|>',
          '<|eom_id|>',
          '<|python_tag|>',
        ],
        bosToken: '<|begin_of_text|>',
        eos: ['<|end_of_text|>', '<|eom_id|>', '<|eot_id|>'],
        template: LLAMA3_TEMPLATE,
        tokenizerConfig: { bos_token: '<|begin_of_text|>', eos_token: '<|eot_id|>' },
      };
    case 'mistral':
      return {
        kind: 'metaspace',
        addedTokens: [
          '[INST]',
          '[/INST]',
          '[TOOL_CALLS]',
          '[AVAILABLE_TOOLS]',
          '[/AVAILABLE_TOOLS]',
          '[TOOL_RESULTS]',
          '[/TOOL_RESULTS]',
        ],
        bosToken: '<s>',
        eos: ['</s>'],
        template: MISTRAL_TEMPLATE,
        tokenizerConfig: { bos_token: '<s>', eos_token: '</s>', unk_token: '<unk>' },
      };
  }
}

/** The family's tiny tokenizer (deterministic), e.g. to find token ids before writing a scripted model. */
export function tinyTokenizerFor(
  architecture: TinyArchitecture,
  extraTokens: (string | SpecialToken)[] = [],
  vocabSize?: number,
) {
  const defaults = family(architecture);
  return buildTinyTokenizer({
    kind: defaults.kind,
    addedTokens: [...defaults.addedTokens, ...extraTokens],
    ...(defaults.bosToken ? { bosToken: defaults.bosToken } : {}),
    ...(vocabSize ? { vocabSize } : {}),
  });
}
