import type { CallOptions } from '../../call-options.js';

/** Behaviour hints of a tool (the MCP tool annotations). */
export interface ToolAnnotations {
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

/** What a tool returns. */
export interface ToolResult {
  /** Text given back to the model. */
  content: string;
  /** Structured result, when the tool has an output schema. */
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** A tool the orchestrator can run in its tool loop or offer over MCP. */
export interface ToolV1 {
  readonly specificationVersion: 'v1';
  /** Unique name; bridged MCP tools are namespaced `server__tool`. */
  readonly name: string;
  readonly description?: string;
  /** JSON Schema of the arguments. */
  readonly inputSchema: Record<string, unknown>;
  readonly outputSchema?: Record<string, unknown>;
  readonly annotations?: ToolAnnotations;
  doExecute(input: Record<string, unknown>, options: CallOptions): Promise<ToolResult>;
}
