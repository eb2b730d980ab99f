/**
 * Renders a conversation with the model's own Jinja chat template (`@huggingface/jinja`), in the
 * shape Hugging Face templates expect: tool definitions as OpenAI function tools, tool-call
 * arguments as objects, tool results as `tool` messages, `chat_template_kwargs` such as
 * `enable_thinking` as template variables.
 */
import { Template } from '@huggingface/jinja';

/** A message as the worker receives it (the OpenAI shape, content parts allowed). */
export interface PromptMessage {
  role: string;
  content?: unknown;
  name?: string;
  tool_calls?: { id?: string; type?: string; function: { name: string; arguments: string | object } }[];
  tool_call_id?: string;
  reasoning_content?: string | null;
}

export interface RenderOptions {
  tools?: unknown[];
  /** Extra template variables (`enable_thinking`, …). */
  kwargs?: Record<string, unknown>;
  /** @default true */
  addGenerationPrompt?: boolean;
}

/** A plain ChatML template for models that ship none. */
export const FALLBACK_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) =>
        part && typeof part === 'object' && (part as { type?: string }).type === 'text'
          ? String((part as { text?: unknown }).text ?? '')
          : '',
      )
      .join('');
  }
  return content === null || content === undefined ? '' : String(content);
}

function parseArguments(value: string | object): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** OpenAI-shaped messages into the shape chat templates read. */
export function toTemplateMessages(messages: PromptMessage[]): Record<string, unknown>[] {
  return messages.map((message) => {
    const out: Record<string, unknown> = {
      role: message.role === 'developer' ? 'system' : message.role,
      content: textOf(message.content),
    };
    if (message.name !== undefined) out.name = message.name;
    if (message.tool_call_id !== undefined) out.tool_call_id = message.tool_call_id;
    if (typeof message.reasoning_content === 'string') out.reasoning_content = message.reasoning_content;
    if (message.tool_calls?.length) {
      out.tool_calls = message.tool_calls.map((call) => ({
        ...(call.id ? { id: call.id } : {}),
        type: 'function',
        function: { name: call.function.name, arguments: parseArguments(call.function.arguments) },
      }));
    }
    return out;
  });
}

export class ChatTemplate {
  readonly #template: Template;
  readonly #toolTemplate: Template | undefined;
  readonly #specialTokens: Record<string, string>;
  /** The template's source, for detecting the tool-call and reasoning formats it uses. */
  readonly source: string;

  constructor(
    source: string | undefined,
    toolSource: string | undefined,
    specialTokens: Record<string, string>,
  ) {
    this.source = source ?? FALLBACK_CHAT_TEMPLATE;
    this.#template = new Template(this.source);
    this.#toolTemplate = toolSource ? new Template(toolSource) : undefined;
    this.#specialTokens = specialTokens;
  }

  render(messages: PromptMessage[], options: RenderOptions = {}): string {
    const tools = options.tools?.length ? options.tools : undefined;
    const template = tools && this.#toolTemplate ? this.#toolTemplate : this.#template;
    return template.render({
      ...this.#specialTokens,
      ...options.kwargs,
      messages: toTemplateMessages(messages),
      ...(tools ? { tools } : {}),
      add_generation_prompt: options.addGenerationPrompt ?? true,
    });
  }
}
