import { InvalidRequestError } from '../errors/invalid-request-error.js';
import type { ChatRequest, ToolDefinition } from '../spec/chat/chat-request.js';
import type { ToolV1 } from '../spec/tool/v1/tool-v1.js';
import { mayRunTool } from './tool-policy.js';

/** Model rounds a request gets when it names none. */
export const DEFAULT_MAX_STEPS = 8;
/** Most model rounds a request may ask for. */
export const MAX_STEPS_LIMIT = 32;

/** The request field that asks the orchestrator to run its own tools. */
export const TOOL_LOOP_FIELD = 'fusion_tools';

/**
 * What a chat request asks of the tool loop, in its `fusion_tools` field:
 * - a list of tool names or patterns: `["fs__read_text_file"]`, `["fs__*"]`, `["*"]`;
 * - or `{ "tools": [...], "max_steps": 4 }`.
 */
export type ToolLoopField = string[] | { tools: string[]; max_steps?: number };

/** The tools a request may use and how many model rounds it gets, with the request to send the model. */
export interface ToolLoopPlan {
  tools: Map<string, ToolV1>;
  maxSteps: number;
  /** The request without `fusion_tools`, with the selected tools added to its own `tools`. */
  request: ChatRequest;
}

/** Whether the request asks for orchestrator tools at all. */
export function wantsToolLoop(request: ChatRequest): boolean {
  return request[TOOL_LOOP_FIELD] !== undefined;
}

function invalid(message: string): InvalidRequestError {
  return new InvalidRequestError(message, { param: TOOL_LOOP_FIELD });
}

function readField(value: unknown): { patterns: string[]; maxSteps: number } {
  const spec = Array.isArray(value) ? { tools: value } : value;
  if (typeof spec !== 'object' || spec === null) {
    throw invalid(`'${TOOL_LOOP_FIELD}' must be a list of tool names or { tools, max_steps }.`);
  }
  const { tools, max_steps: maxSteps = DEFAULT_MAX_STEPS } = spec as { tools?: unknown; max_steps?: unknown };
  if (
    !Array.isArray(tools) ||
    tools.length > 256 ||
    !tools.every((name) => typeof name === 'string' && name)
  ) {
    throw invalid(`'${TOOL_LOOP_FIELD}' must list tool names or patterns such as "server__*" or "*".`);
  }
  if (
    typeof maxSteps !== 'number' ||
    !Number.isInteger(maxSteps) ||
    maxSteps < 1 ||
    maxSteps > MAX_STEPS_LIMIT
  ) {
    throw invalid(`'${TOOL_LOOP_FIELD}.max_steps' must be an integer from 1 to ${MAX_STEPS_LIMIT}.`);
  }
  return { patterns: tools as string[], maxSteps };
}

function matches(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return name.startsWith(pattern.slice(0, -1));
  return pattern === name;
}

/** The tool definition a model is offered for a tool. */
export function toolDefinition(tool: ToolV1): ToolDefinition {
  const definition: ToolDefinition = {
    type: 'function',
    function: { name: tool.name, parameters: tool.inputSchema },
  };
  if (tool.description) definition.function.description = tool.description;
  return definition;
}

/**
 * Reads `fusion_tools` and picks the registered tools it names. Patterns skip tools the loop may not
 * run (destructive and not allowed); naming such a tool, or one that is not registered, is a 400.
 */
export function planToolLoop(request: ChatRequest, registered: ReadonlyMap<string, ToolV1>): ToolLoopPlan {
  const { [TOOL_LOOP_FIELD]: field, ...rest } = request;
  const { patterns, maxSteps } = readField(field);
  const tools = new Map<string, ToolV1>();
  for (const pattern of patterns) {
    if (!pattern.endsWith('*')) {
      const tool = registered.get(pattern);
      if (!tool) throw invalid(`No tool named '${pattern}' is registered with the orchestrator.`);
      if (!mayRunTool(tool)) {
        throw invalid(
          `Tool '${pattern}' may change or delete data; the server must allow it before a request can use it.`,
        );
      }
      tools.set(tool.name, tool);
      continue;
    }
    for (const tool of registered.values()) {
      if (matches(pattern, tool.name) && mayRunTool(tool)) tools.set(tool.name, tool);
    }
  }
  const own = request.tools ?? [];
  for (const definition of own) {
    if (tools.has(definition.function.name)) {
      throw invalid(
        `'tools' declares '${definition.function.name}', which is also an orchestrator tool; rename one of them.`,
      );
    }
  }
  const offered = [...own, ...[...tools.values()].map(toolDefinition)];
  const next: ChatRequest = { ...rest };
  if (offered.length > 0) next.tools = offered;
  return { tools, maxSteps, request: next };
}
