import type { ToolResult, ToolV1 } from '@fusionkit/core';
import type { CallToolResult, Tool } from '@modelcontextprotocol/client';
import type { McpConnection } from './mcp-connection.js';

/**
 * Where the tool loop reads how to run a tool: `Symbol.for('@fusionkit/tool-policy')`, the key the
 * core's tool loop reads (`packages/core/src/tools/tool-policy.ts`).
 */
export const TOOL_POLICY = Symbol.for('@fusionkit/tool-policy');

/** The policy the tool loop applies to a bridged tool (the core's `ToolPolicy`). */
export interface BridgedToolPolicy {
  timeoutMs: number;
  maxResultChars: number;
  allowDestructive: boolean;
}

/** A bridged tool: a `ToolV1` with the policy its server's config gives it. */
export type BridgedTool = ToolV1 & { readonly [TOOL_POLICY]: BridgedToolPolicy; readonly server: string };

const NAME_LIMIT = 64;

/** `server__tool`, cut to the 64 characters OpenAI-style tool names allow, kept unique by a hash. */
export function bridgedToolName(server: string, tool: string): string {
  const name = `${server}__${tool}`.replace(/[^\w-]/g, '_');
  if (name.length <= NAME_LIMIT) return name;
  let hash = 0;
  for (const char of name) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) >>> 0;
  const suffix = `_${hash.toString(36)}`;
  return name.slice(0, NAME_LIMIT - suffix.length) + suffix;
}

/** The text a model reads of a tool result: text blocks as they are, other blocks described. */
export function resultText(result: CallToolResult): string {
  const parts: string[] = [];
  for (const block of result.content ?? []) {
    if (block.type === 'text') parts.push(block.text);
    else if (block.type === 'resource') {
      const resource = block.resource as { uri: string; text?: string };
      parts.push(resource.text ?? `[resource ${resource.uri}]`);
    } else if (block.type === 'resource_link') parts.push(`[resource ${block.uri}]`);
    else parts.push(`[${block.type}${'mimeType' in block ? ` ${String(block.mimeType)}` : ''}]`);
  }
  if (parts.length === 0 && result.structuredContent !== undefined)
    return JSON.stringify(result.structuredContent);
  return parts.join('\n');
}

/** A tool of an external MCP server as a `ToolV1` named `server__tool`. */
export function bridgeTool(connection: McpConnection, tool: Tool): BridgedTool {
  const { config } = connection;
  const allow = config.allowDestructive;
  const policy: BridgedToolPolicy = {
    timeoutMs: config.toolTimeouts?.[tool.name] ?? config.timeoutMs ?? 30_000,
    maxResultChars: config.maxResultChars ?? 16_000,
    allowDestructive: allow === true || (Array.isArray(allow) && allow.includes(tool.name)),
  };
  return {
    specificationVersion: 'v1',
    name: bridgedToolName(connection.name, tool.name),
    server: connection.name,
    description: tool.description ?? tool.title ?? tool.name,
    inputSchema: tool.inputSchema as Record<string, unknown>,
    ...(tool.outputSchema ? { outputSchema: tool.outputSchema as Record<string, unknown> } : {}),
    ...(tool.annotations ? { annotations: tool.annotations } : {}),
    [TOOL_POLICY]: policy,
    async doExecute(input, options): Promise<ToolResult> {
      const result = await connection.callTool(tool.name, input, {
        signal: options.signal,
        timeoutMs: policy.timeoutMs,
      });
      const structured = result.structuredContent;
      return {
        content: resultText(result),
        ...(structured && typeof structured === 'object' && !Array.isArray(structured)
          ? { structuredContent: structured as Record<string, unknown> }
          : {}),
        ...(result.isError ? { isError: true } : {}),
      };
    },
  };
}
