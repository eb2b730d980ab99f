/**
 * A remote MCP server as many are deployed: the SDK's `McpServer` behind a stateful Streamable HTTP
 * transport (one session per client, `Mcp-Session-Id`, 404 for a session it does not know), on
 * node:http. It can be stopped and started again on the same port, forgetting every session as a
 * restarted process would; and it can add a tool while clients are connected.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNodeHandler } from '@fusionkit/node';
import {
  isInitializeRequest,
  McpServer,
  WebStandardStreamableHTTPServerTransport,
} from '@modelcontextprotocol/server';
import { z } from 'zod';

export interface RemoteToolServer {
  /** `http://127.0.0.1:<port>/mcp`, the same after a restart. */
  readonly url: string;
  /** How many times the server was started: 1, then 2 after the first restart. */
  readonly generation: number;
  /** Requests answered 404 because they named a session this generation does not know. */
  readonly unknownSessions: number;
  /** GET requests that opened a notification stream, this generation. */
  readonly notificationStreams: number;
  /** Calls of `wait` whose signal aborted (the client cancelled), with the call's `label`. */
  readonly cancelled: string[];
  /** Calls of `bump` run (a tool that is neither read-only nor idempotent). */
  readonly bumps: number;
  /** Closes the connection of each of the next `count` POSTs before reading it, as a crash would. */
  dropNextPosts(count: number): void;
  /** Calls of `wait` running now, by label. */
  readonly waiting: string[];
  /** Adds a tool to every session (each gets `notifications/tools/list_changed`) and to new ones. */
  addTool(name: string, reply: string): void;
  /** Removes a tool added by `addTool`, from every session (with the notification) and new ones. */
  removeTool(name: string): void;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startRemoteToolServer(): Promise<RemoteToolServer> {
  const extraTools = new Map<string, string>();
  const registered: { name: string; remove(): void }[] = [];
  const sessions = new Map<
    string,
    { server: McpServer; transport: WebStandardStreamableHTTPServerTransport }
  >();
  const cancelled: string[] = [];
  const waiting = new Set<string>();
  let generation = 0;
  let unknownSessions = 0;
  let notificationStreams = 0;
  let bumps = 0;
  let drops = 0;
  let http: Server | undefined;
  let port = 0;

  const readOnly = { readOnlyHint: true };
  const addTo = (server: McpServer, name: string, reply: string) => {
    const tool = server.registerTool(name, { annotations: readOnly }, async () => ({
      content: [{ type: 'text', text: reply }],
    }));
    registered.push({ name, remove: () => tool.remove() });
  };

  function buildServer(): McpServer {
    const server = new McpServer({ name: 'remote', version: '1.0.0' });
    const current = generation;
    server.registerTool(
      'echo',
      { inputSchema: z.object({ text: z.string() }), annotations: readOnly },
      async ({ text }) => ({ content: [{ type: 'text', text: `echo ${text} from generation ${current}` }] }),
    );
    server.registerTool(
      'wait',
      { inputSchema: z.object({ label: z.string() }), annotations: readOnly },
      async ({ label }, context) => {
        const signal = context.mcpReq.signal;
        waiting.add(label);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 30_000);
          signal.addEventListener(
            'abort',
            () => {
              clearTimeout(timer);
              cancelled.push(label);
              resolve();
            },
            { once: true },
          );
        });
        waiting.delete(label);
        return { content: [{ type: 'text', text: `waited ${label}` }] };
      },
    );
    server.registerTool('bump', { annotations: { readOnlyHint: false, idempotentHint: false } }, async () => {
      bumps++;
      return { content: [{ type: 'text', text: `bumped to ${bumps}` }] };
    });
    for (const [name, reply] of extraTools) addTo(server, name, reply);
    return server;
  }

  async function handle(request: Request): Promise<Response> {
    const sessionId = request.headers.get('mcp-session-id');
    if (sessionId) {
      const session = sessions.get(sessionId);
      if (!session) {
        unknownSessions++;
        // Read the body first, as servers behind a body parser do: a socket closed with the body
        // unread can reach the client as a reset rather than this 404.
        await request.arrayBuffer().catch(() => {});
        return Response.json(
          { jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null },
          { status: 404 },
        );
      }
      if (request.method === 'GET') notificationStreams++;
      return session.transport.handleRequest(request);
    }
    const body: unknown = request.method === 'POST' ? await request.json() : undefined;
    if (!isInitializeRequest(body)) {
      return Response.json(
        { jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: no session' }, id: null },
        { status: 400 },
      );
    }
    const server = buildServer();
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, { server, transport });
      },
    });
    await server.connect(transport);
    return transport.handleRequest(request, { parsedBody: body });
  }

  async function start(): Promise<void> {
    generation++;
    notificationStreams = 0;
    const listener = createNodeHandler({ handle });
    http = createServer((request, response) => {
      if (request.method === 'POST' && drops > 0) {
        drops--;
        request.socket.destroy();
        return;
      }
      void listener(request, response);
    });
    await new Promise<void>((resolve) => http!.listen(port, '127.0.0.1', () => resolve()));
    port = (http.address() as AddressInfo).port;
  }

  async function stop(): Promise<void> {
    const closing = [...sessions.values()].map(({ server }) => server.close().catch(() => {}));
    sessions.clear();
    await Promise.all(closing);
    if (!http) return;
    const server = http;
    http = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    // A restarted process is gone for a while: its clients see their kept-alive connections close
    // before anything listens again. In one process with no pause, the client could send on a socket
    // whose close it has not read yet (`other side closed`).
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  await start();
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    get generation() {
      return generation;
    },
    get unknownSessions() {
      return unknownSessions;
    },
    get notificationStreams() {
      return notificationStreams;
    },
    cancelled,
    get bumps() {
      return bumps;
    },
    dropNextPosts(count) {
      drops = count;
    },
    get waiting() {
      return [...waiting];
    },
    addTool(name, reply) {
      extraTools.set(name, reply);
      for (const { server } of sessions.values()) addTo(server, name, reply);
    },
    removeTool(name) {
      extraTools.delete(name);
      for (const tool of registered.filter((each) => each.name === name)) tool.remove();
    },
    stop,
    start,
    close: stop,
  };
}
