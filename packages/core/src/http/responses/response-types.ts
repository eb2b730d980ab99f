/**
 * The OpenAI Responses API wire shapes the orchestrator reads and writes: only the fields it
 * translates. Field names are OpenAI's (snake_case), as in the chat spec.
 */

/** Where a response is in its life. */
export type ResponseStatus = 'queued' | 'in_progress' | 'completed' | 'incomplete' | 'failed' | 'cancelled';

/** A text part of an assistant message. */
export interface OutputText {
  type: 'output_text';
  text: string;
  annotations: unknown[];
  logprobs?: unknown[];
}

/** An assistant message of a response's output. */
export interface OutputMessage {
  type: 'message';
  id: string;
  status: 'in_progress' | 'completed' | 'incomplete';
  role: 'assistant';
  content: OutputText[];
}

/** A call of a function tool, as the model made it. */
export interface FunctionCallItem {
  type: 'function_call';
  id: string;
  /** The id the `function_call_output` item answering it refers to. */
  call_id: string;
  name: string;
  /** The arguments as a JSON string, exactly as the model produced them. */
  arguments: string;
  status: 'in_progress' | 'completed' | 'incomplete';
}

/** The reasoning text of a thinking model (`reasoning_content` of chat completions). */
export interface ReasoningItem {
  type: 'reasoning';
  id: string;
  summary: { type: 'summary_text'; text: string }[];
  content?: { type: 'reasoning_text'; text: string }[];
  status?: 'in_progress' | 'completed' | 'incomplete';
}

/** One item of a response's `output`. */
export type OutputItem = OutputMessage | FunctionCallItem | ReasoningItem;

/** Token counts in the Responses shape. */
export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** The error of a failed response. */
export interface ResponseError {
  code: string;
  message: string;
}

/** A response object (`object: 'response'`), as `POST /v1/responses` answers and `GET` reads it. */
export interface ResponseObject {
  id: string;
  object: 'response';
  /** Unix seconds. */
  created_at: number;
  status: ResponseStatus;
  /** Unix seconds, once finished. */
  completed_at?: number | null;
  background: boolean;
  error: ResponseError | null;
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  /** The model asked for (a pipeline name stays a pipeline name). */
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  reasoning: { effort: string | null; summary: string | null };
  store: boolean;
  temperature: number | null;
  text: { format: Record<string, unknown> };
  tool_choice: unknown;
  tools: unknown[];
  top_p: number | null;
  truncation: 'disabled' | 'auto';
  usage: ResponseUsage | null;
  user: string | null;
  metadata: Record<string, string>;
  /** Extra fields of the chat answer (a RAG pipeline's `citations`, a fusion summary) pass through. */
  [extra: string]: unknown;
}

/** An item of a request's `input`, after validation; `id` is set once it is stored. */
export type InputItem = Record<string, unknown> & { type: string; id?: string };
