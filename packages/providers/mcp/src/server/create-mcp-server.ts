import type { ModelListEntry } from '@fusionkit/core';
import {
  type McpRequestContext,
  McpServer,
  type Server,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { registerBridgedServers } from './bridged-servers.js';
import type { JobsLike, McpFusion, RagPluginLike, RagStoreLike } from './mcp-fusion.js';
import type { McpServerOptions } from './mcp-server-options.js';
import { registerModelPrompts, registerRagPrompts } from './register-prompts.js';
import { registerModelResources, registerRagResources } from './register-resources.js';
import { enableResourceSubscriptions } from './resource-subscriptions.js';
import { registerChatTool } from './tools/chat-tool.js';
import { registerFuseTool } from './tools/fuse-tool.js';
import { registerJobStatusTool } from './tools/job-status-tool.js';
import { registerListModelsTool } from './tools/list-models-tool.js';
import { registerRagIngestTool, registerRagSearchTool } from './tools/rag-tools.js';
import type { ToolContext } from './tools/tool-context.js';

declare const __VERSION__: string | undefined;
const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : '0.1.0';

/** The capabilities present now: each tool is offered only when what it needs is there. */
export interface McpCapabilities {
  fusion: McpFusion;
  /** Whether any chat model or pipeline is served (`chat`, `fuse`). */
  chat: boolean;
  /** The models and pipelines served now. */
  models?: readonly ModelListEntry[];
  rag?: RagStoreLike;
  jobs?: JobsLike;
}

function isRagPlugin(value: RagPluginLike | RagStoreLike): value is RagPluginLike {
  return 'store' in value;
}

/** The orchestrator the options name; throws a hint when there is none. */
export function fusionOf(options: McpServerOptions, fallback?: McpFusion): McpFusion {
  const fusion = (typeof options.fusion === 'function' ? options.fusion() : options.fusion) ?? fallback;
  if (!fusion) {
    throw new TypeError(
      'The MCP server needs the orchestrator: pass { fusion } (or { fusion: () => fusion }).',
    );
  }
  return fusion;
}

/** Looks up what the orchestrator and the plugins offer at this moment. */
export async function readCapabilities(
  options: McpServerOptions,
  fusion: McpFusion,
): Promise<McpCapabilities> {
  const models = await fusion.models();
  const capabilities: McpCapabilities = {
    fusion,
    chat: models.some((model) => model.type !== 'embeddings'),
    models,
  };
  const rag = typeof options.rag === 'function' ? options.rag() : options.rag;
  if (rag) {
    try {
      // The RAG plugin's `store` throws until the plugin is set up.
      capabilities.rag = isRagPlugin(rag) ? rag.store : rag;
    } catch {}
  }
  const jobs = options.jobs ?? (rag && isRagPlugin(rag) ? rag.jobs : undefined);
  if (jobs) capabilities.jobs = jobs;
  return capabilities;
}

/**
 * Builds one MCP server instance over the orchestrator: tools `chat`, `fuse`, `list_models`,
 * `rag_search`, `rag_ingest`, `job_status` (each only when its capability is present), resources for
 * models, collections and documents. `signal` (the HTTP request's) aborts every call it carries.
 */
export function buildMcpServer(
  capabilities: McpCapabilities,
  options: McpServerOptions,
  signal?: AbortSignal,
  delivery: McpDelivery = { later: false, subscriptions: false },
): McpServer {
  // `listChanged`, `resources.subscribe` and `logging` only where they can be delivered: a session
  // (2025) or a listen stream and the per-request log level (2026-07-28); a stateless 2025 request
  // has neither a stream that outlives it nor a level that outlives `logging/setLevel`.
  const server = new McpServer(
    { name: options.name ?? 'fusion', version: options.version ?? VERSION },
    {
      capabilities: {
        tools: { listChanged: delivery.later },
        resources: { listChanged: delivery.later },
        prompts: { listChanged: delivery.later },
        ...(delivery.later ? { logging: {} } : {}),
      },
      instructions:
        'The Fusion Orchestrator: several models behind one API. Use list_models to see them, chat to ask one, fuse to combine several' +
        (capabilities.rag ? ', rag_search and rag_ingest for the document collections.' : '.'),
    },
  );
  const context: ToolContext = {
    signal: (call: ServerContext) =>
      signal ? AbortSignal.any([call.mcpReq.signal, signal]) : call.mcpReq.signal,
    progressEveryChunks: Math.max(1, options.progressEveryChunks ?? 8),
  };
  const { fusion } = capabilities;
  const signalOf = (call: AbortSignal) => (signal ? AbortSignal.any([call, signal]) : call);
  if (delivery.subscriptions === 'session') enableResourceSubscriptions(server);
  else if (delivery.subscriptions) server.server.registerCapabilities({ resources: { subscribe: true } });
  registerListModelsTool(server, fusion);
  registerModelResources(server, fusion);
  if (capabilities.chat) {
    registerChatTool(server, fusion, context);
    registerFuseTool(server, fusion, context);
    registerModelPrompts(server, fusion, capabilities.models ?? [], signalOf);
  }
  if (capabilities.rag) {
    registerRagSearchTool(server, capabilities.rag, context);
    registerRagIngestTool(server, capabilities.rag, context);
    registerRagResources(server, capabilities.rag);
    registerRagPrompts(server, capabilities.rag, signalOf);
  }
  if (capabilities.jobs) registerJobStatusTool(server, capabilities.jobs);
  // A session (or a stdio connection) follows the servers as they go down and come back.
  if (options.servers) {
    registerBridgedServers(server, options.servers, context.signal, delivery.subscriptions === 'session');
  }
  return server;
}

/** What can reach a client after the answer to its request (see {@link McpEndpointFactory}). */
export interface McpDelivery {
  /** Notifications sent later reach the client: `listChanged` and `logging` are declared. */
  later: boolean;
  /**
   * `resources.subscribe`: `'session'` answers `resources/subscribe` itself (a 2025 session),
   * `true` leaves the subscription to the SDK's listen streams (2026-07-28), `false` declares none.
   */
  subscriptions: boolean | 'session';
}

/**
 * A server factory as the endpoint calls it: the SDK's context, and `session` when the instance
 * serves a 2025 session (rather than one stateless request).
 */
export type McpEndpointFactory = (
  context: McpRequestContext,
  session?: { stateful: true },
) => McpServer | Server | Promise<McpServer | Server>;

/** What a server instance built for this context can deliver after its answers. */
export function deliveryOf(context: McpRequestContext, session?: { stateful: true }): McpDelivery {
  if (session?.stateful) return { later: true, subscriptions: 'session' };
  return context.era === 'modern'
    ? { later: true, subscriptions: true }
    : { later: false, subscriptions: false };
}

/**
 * The server factory the serving entries call (once per HTTP request or session, once per stdio
 * connection): a fresh instance over what is present now.
 */
export function createMcpServerFactory(
  options: McpServerOptions,
  fallback?: () => McpFusion | undefined,
  stdio = false,
): McpEndpointFactory {
  return async (context, session) => {
    const fusion = fusionOf(options, fallback?.());
    // A stdio connection is one client for its lifetime: a session by nature.
    const delivery = stdio ? deliveryOf(context, { stateful: true }) : deliveryOf(context, session);
    return buildMcpServer(
      await readCapabilities(options, fusion),
      options,
      context.requestInfo?.signal,
      delivery,
    );
  };
}
