import type { ToolAnnotations, ToolV1 } from '../spec/tool/v1/tool-v1.js';

/**
 * Where a tool carries how the tool loop may run it. A symbol from the global registry, so a tool
 * built by another copy of the package (the MCP bridge sets it from its server config) is read too.
 */
export const TOOL_POLICY = Symbol.for('@fusionkit/tool-policy');

/** How the tool loop runs one tool. Set it as `tool[TOOL_POLICY]`. */
export interface ToolPolicy {
  /** Time allowed to one call, ms; past it the model gets a tool error. @default 30000 */
  timeoutMs?: number;
  /** Characters of a result given back to the model; the rest is cut, with a marker saying so. @default 16000 */
  maxResultChars?: number;
  /** Lets the loop run the tool although it is destructive (see {@link isDestructiveTool}). @default false */
  allowDestructive?: boolean;
}

export const DEFAULT_TOOL_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RESULT_CHARS = 16_000;

/** The policy a tool carries, or an empty one. */
export function toolPolicyOf(tool: ToolV1): ToolPolicy {
  const policy = (tool as ToolV1 & { [TOOL_POLICY]?: ToolPolicy })[TOOL_POLICY];
  return typeof policy === 'object' && policy !== null ? policy : {};
}

/**
 * Whether a tool may change or delete things, read as the MCP spec defines the hints: a tool that is
 * not `readOnlyHint: true` is destructive unless it says `destructiveHint: false`.
 */
export function isDestructiveTool(annotations: ToolAnnotations | undefined): boolean {
  if (annotations?.readOnlyHint === true) return false;
  return annotations?.destructiveHint !== false;
}

/** Whether the loop may run the tool: not destructive, or allowed by its policy. */
export function mayRunTool(tool: ToolV1): boolean {
  return !isDestructiveTool(tool.annotations) || toolPolicyOf(tool).allowDestructive === true;
}
