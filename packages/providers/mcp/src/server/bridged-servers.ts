import type {
  Prompt,
  Resource,
  ResourceTemplateType,
  Tool,
  ToolAnnotations,
} from '@modelcontextprotocol/client';
import {
  fromJsonSchema,
  type JsonSchemaType,
  type McpServer,
  ProtocolError,
  ProtocolErrorCode,
  ResourceTemplate,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { bridgedToolName } from '../client/bridge-tool.js';
import type { McpConnection } from '../client/mcp-connection.js';

/**
 * External MCP servers to re-serve on an endpoint: the connections of the tool loop's
 * `mcpToolsPlugin`, or anything that holds connections by server name.
 */
export interface BridgedServersLike {
  readonly connections: ReadonlyMap<string, McpConnection>;
}

/** The health of one re-served server, for `GET /api/mcp/servers`. */
export interface BridgedServerStatus {
  name: string;
  transport: 'stdio' | 'http';
  /** The connection's state: `connected` is up; `connecting`, `restarting` and `idle` are down. */
  state: McpConnection['state'];
  healthy: boolean;
  /** Tools, resources (with templates) and prompts re-served now. */
  tools: number;
  resources: number;
  prompts: number;
  /** Why it is down, while it is. */
  error?: string;
}

/**
 * Whether a tool may change or delete things, as the core's tool loop reads the MCP hints
 * (`isDestructiveTool`): unless it says `readOnlyHint: true` or `destructiveHint: false`.
 */
function isDestructive(annotations: ToolAnnotations | undefined): boolean {
  if (annotations?.readOnlyHint === true) return false;
  return annotations?.destructiveHint !== false;
}

/**
 * The tools of a server that are re-served: its `include`/`exclude` lists applied, destructive
 * tools only when `allowDestructive` names them (or is `true`), as for the tool loop.
 */
export function reservedTools(connection: McpConnection): Tool[] {
  const { include, exclude, allowDestructive } = connection.config;
  return connection.tools.filter(
    (tool) =>
      (!include || include.includes(tool.name)) &&
      !exclude?.includes(tool.name) &&
      (!isDestructive(tool.annotations) ||
        allowDestructive === true ||
        (Array.isArray(allowDestructive) && allowDestructive.includes(tool.name))),
  );
}

const NAMESPACED_URI = /^([A-Za-z0-9][A-Za-z0-9-]{0,31})\+(.+)$/s;

/** A server's resource URI (or template) as re-served: `server+uri` (`fs+file:///a.txt`). */
export function namespacedUri(server: string, uri: string): string {
  return `${server}+${uri}`;
}

/** The server and its own URI of a re-served resource URI, or undefined when it is not one. */
export function parseNamespacedUri(uri: string): { server: string; uri: string } | undefined {
  const match = NAMESPACED_URI.exec(uri);
  return match ? { server: match[1]!, uri: match[2]! } : undefined;
}

/** Health of every re-served server. */
export function bridgedServerStatus(servers: BridgedServersLike): BridgedServerStatus[] {
  return [...servers.connections.values()].map((connection) => {
    const healthy = connection.state === 'connected';
    const { lists } = connection;
    const failure = connection.failure;
    return {
      name: connection.name,
      transport: connection.config.url ? 'http' : 'stdio',
      state: connection.state,
      healthy,
      tools: healthy ? reservedTools(connection).length : 0,
      resources: healthy ? lists.resources.length + lists.resourceTemplates.length : 0,
      prompts: healthy ? lists.prompts.length : 0,
      ...(failure ? { error: failure } : {}),
    };
  });
}

interface Registration {
  /** What the entry was registered from: a changed definition is registered again. */
  definition: string;
  remove(): void;
}

type SignalOf = (call: ServerContext) => AbortSignal;

/**
 * Re-serves the tools, resources and prompts of the external servers that are up on one MCP server
 * instance: tools and prompts as `server__name`, resources as `server+uri`; calls go to the server
 * that owns them. With `live`, the instance follows the servers (one going down takes its entries
 * away, one coming back brings them back; the SDK sends the `list_changed` notifications), until
 * it closes. Returns a function that stops following.
 */
export function registerBridgedServers(
  server: McpServer,
  servers: BridgedServersLike,
  signalOf: SignalOf,
  live: boolean,
): () => void {
  const registered = new Map<string, Registration>();
  const sync = () => {
    const wanted = new Map<string, { definition: string; register: () => Registration }>();
    for (const connection of servers.connections.values()) {
      if (connection.state !== 'connected') continue;
      for (const [key, entry] of bridgedEntries(server, connection, signalOf)) wanted.set(key, entry);
    }
    for (const [key, registration] of registered) {
      if (wanted.get(key)?.definition === registration.definition) continue;
      registration.remove();
      registered.delete(key);
    }
    for (const [key, entry] of wanted) {
      if (registered.has(key)) continue;
      try {
        registered.set(key, entry.register());
      } catch {
        // A name the orchestrator's own entries already use, or a schema the SDK cannot read: skipped.
      }
    }
  };
  sync();
  if (!live) return () => {};
  const offs = [...servers.connections.values()].map((connection) => connection.subscribe(sync));
  const stop = () => {
    for (const off of offs) off();
  };
  const previous = server.server.onclose;
  server.server.onclose = () => {
    stop();
    previous?.();
  };
  return stop;
}

function bridgedEntries(
  server: McpServer,
  connection: McpConnection,
  signalOf: SignalOf,
): Map<string, { definition: string; register: () => Registration }> {
  const entries = new Map<string, { definition: string; register: () => Registration }>();
  const name = connection.name;
  const timeoutMs = (tool: string) => connection.config.toolTimeouts?.[tool] ?? connection.config.timeoutMs;
  const options = (call: ServerContext, tool?: string) => {
    const timeout = tool ? timeoutMs(tool) : connection.config.timeoutMs;
    return { signal: signalOf(call), ...(timeout === undefined ? {} : { timeoutMs: timeout }) };
  };
  for (const tool of reservedTools(connection)) {
    entries.set(`tool:${bridgedToolName(name, tool.name)}`, {
      definition: JSON.stringify(tool),
      register: () => registerTool(server, connection, tool, (call) => options(call, tool.name)),
    });
  }
  for (const resource of connection.lists.resources) {
    entries.set(`resource:${namespacedUri(name, resource.uri)}`, {
      definition: JSON.stringify(resource),
      register: () => registerResource(server, connection, resource, (call) => options(call)),
    });
  }
  for (const template of connection.lists.resourceTemplates) {
    entries.set(`template:${bridgedToolName(name, template.name)}`, {
      definition: JSON.stringify(template),
      register: () => registerTemplate(server, connection, template, (call) => options(call)),
    });
  }
  for (const prompt of connection.lists.prompts) {
    entries.set(`prompt:${bridgedToolName(name, prompt.name)}`, {
      definition: JSON.stringify(prompt),
      register: () => registerPrompt(server, connection, prompt, (call) => options(call)),
    });
  }
  return entries;
}

type OptionsOf = (call: ServerContext) => { signal: AbortSignal; timeoutMs?: number };

/**
 * A listed JSON Schema as the SDK's schema, made once per listing: stateless requests build a server
 * instance each, and compiling every tool's validator each time would cost more than the call.
 */
const schemas = new WeakMap<object, ReturnType<typeof fromJsonSchema<Record<string, unknown>>>>();
function schemaOf(json: object): ReturnType<typeof fromJsonSchema<Record<string, unknown>>> {
  let schema = schemas.get(json);
  if (!schema) {
    schema = fromJsonSchema<Record<string, unknown>>(json as JsonSchemaType);
    schemas.set(json, schema);
  }
  return schema;
}

function registerTool(
  server: McpServer,
  connection: McpConnection,
  tool: Tool,
  optionsOf: OptionsOf,
): Registration {
  const registered = server.registerTool(
    bridgedToolName(connection.name, tool.name),
    {
      ...(tool.title ? { title: tool.title } : {}),
      description: `${tool.description ?? tool.title ?? tool.name} (from MCP server '${connection.name}')`,
      inputSchema: schemaOf(tool.inputSchema),
      ...(tool.outputSchema ? { outputSchema: schemaOf(tool.outputSchema) } : {}),
      ...(tool.annotations ? { annotations: tool.annotations } : {}),
    },
    // A thrown error (the server is down, the call timed out) becomes the tool's error result.
    async (args, call) => connection.callTool(tool.name, args ?? {}, optionsOf(call)),
  );
  return { definition: JSON.stringify(tool), remove: () => registered.remove() };
}

function registerResource(
  server: McpServer,
  connection: McpConnection,
  resource: Resource,
  optionsOf: OptionsOf,
): Registration {
  const { uri, name, ...metadata } = resource;
  const registered = server.registerResource(
    bridgedToolName(connection.name, name),
    namespacedUri(connection.name, uri),
    metadata,
    async (_uri, call) => renamespace(connection.name, await connection.readResource(uri, optionsOf(call))),
  );
  return { definition: JSON.stringify(resource), remove: () => registered.remove() };
}

function registerTemplate(
  server: McpServer,
  connection: McpConnection,
  template: ResourceTemplateType,
  optionsOf: OptionsOf,
): Registration {
  const { uriTemplate, name, ...metadata } = template;
  const registered = server.registerResource(
    bridgedToolName(connection.name, name),
    new ResourceTemplate(namespacedUri(connection.name, uriTemplate), { list: undefined }),
    metadata,
    async (uri, _variables, call) => {
      const own = parseNamespacedUri(uri.toString());
      if (!own || own.server !== connection.name) {
        throw new ProtocolError(
          ProtocolErrorCode.InvalidParams,
          `Resource ${uri} is not one of '${connection.name}'.`,
        );
      }
      return renamespace(connection.name, await connection.readResource(own.uri, optionsOf(call)));
    },
  );
  return { definition: JSON.stringify(template), remove: () => registered.remove() };
}

/** The contents a server read, with their URIs as the client knows them. */
function renamespace<T extends { contents: { uri: string }[] }>(server: string, result: T): T {
  return {
    ...result,
    contents: result.contents.map((content) => ({ ...content, uri: namespacedUri(server, content.uri) })),
  };
}

function registerPrompt(
  server: McpServer,
  connection: McpConnection,
  prompt: Prompt,
  optionsOf: OptionsOf,
): Registration {
  const properties = Object.fromEntries(
    (prompt.arguments ?? []).map((argument) => [
      argument.name,
      { type: 'string', ...(argument.description ? { description: argument.description } : {}) },
    ]),
  );
  const required = (prompt.arguments ?? [])
    .filter((argument) => argument.required)
    .map((argument) => argument.name);
  const config = {
    ...(prompt.title ? { title: prompt.title } : {}),
    description: `${prompt.description ?? prompt.title ?? prompt.name} (from MCP server '${connection.name}')`,
  };
  const get = (args: Record<string, string> | undefined, call: ServerContext) =>
    connection.getPrompt(prompt.name, args, optionsOf(call));
  const name = bridgedToolName(connection.name, prompt.name);
  // Without arguments the SDK calls the callback with the context alone.
  const registered = prompt.arguments?.length
    ? server.registerPrompt(
        name,
        {
          ...config,
          argsSchema: fromJsonSchema<Record<string, string>>({
            type: 'object',
            properties,
            ...(required.length ? { required } : {}),
          } as JsonSchemaType),
        },
        get,
      )
    : server.registerPrompt(name, config, (call: ServerContext) => get(undefined, call));
  return { definition: JSON.stringify(prompt), remove: () => registered.remove() };
}
