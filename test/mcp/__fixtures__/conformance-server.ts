/**
 * The conformance fixture server: every tool, resource and prompt the official MCP conformance suite
 * (`@modelcontextprotocol/conformance`) names, built from the MCP plugin's own building blocks
 * (`createMcpEndpoint` with sessions, `enableResourceSubscriptions`, the node adapter's `serve`), so
 * that the suite proves the plugin carries text, image, audio, embedded resources, logging,
 * progress, sampling, elicitation, subscriptions and multi-round input. It lives in the tests: the
 * product's tool list does not have these tools.
 */
import { createMcpEndpoint, enableResourceSubscriptions, type McpEndpoints } from '@fusionkit/mcp';
import { serve } from '@fusionkit/node';
import {
  acceptedContent,
  type CallToolResult,
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  completable,
  createRequestStateCodec,
  type ElicitRequestFormParams,
  fromJsonSchema,
  type InputRequests,
  inputRequired,
  McpServer,
  ProtocolError,
  ProtocolErrorCode,
  ResourceTemplate,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';

/** A 1×1 PNG and a minimal WAV file. */
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WAV = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=';

const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const noArguments = z.object({});

/** A form asking for one string (or boolean) field. */
function ask(message: string, field: string, type: 'string' | 'boolean' = 'string'): ElicitRequestFormParams {
  const property = type === 'string' ? { type: 'string' as const } : { type: 'boolean' as const };
  return {
    message,
    requestedSchema: { type: 'object', properties: { [field]: property }, required: [field] },
  };
}

/** Everything the suite's server scenarios call, on one server instance. */
export function buildConformanceServer(
  notify: () => McpEndpoints['notify'],
  requestState = createRequestStateCodec<Record<string, unknown>>({
    key: crypto.getRandomValues(new Uint8Array(32)),
  }),
): McpServer {
  const server = new McpServer(
    { name: 'fusion-conformance-fixture', version: '1.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { listChanged: true },
        prompts: { listChanged: true },
        logging: {},
        completions: {},
      },
      requestState: { verify: requestState.verify },
    },
  );
  enableResourceSubscriptions(server);
  registerContentTools(server);
  registerNotifyingTools(server, notify);
  registerClientRequestTools(server);
  registerInputRequiredTools(server, requestState);
  registerResources(server);
  registerPrompts(server);
  return server;
}

function registerContentTools(server: McpServer): void {
  server.registerTool('test_simple_text', { description: 'Answers with text.' }, async () =>
    text('This is a simple text response for testing.'),
  );
  server.registerTool('test_image_content', { description: 'Answers with an image.' }, async () => ({
    content: [{ type: 'image', data: PNG, mimeType: 'image/png' }],
  }));
  server.registerTool('test_audio_content', { description: 'Answers with audio.' }, async () => ({
    content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }],
  }));
  server.registerTool('test_embedded_resource', { description: 'Answers with a resource.' }, async () => ({
    content: [
      {
        type: 'resource',
        resource: {
          uri: 'test://embedded-resource',
          mimeType: 'text/plain',
          text: 'This is an embedded resource content.',
        },
      },
    ],
  }));
  server.registerTool(
    'test_multiple_content_types',
    { description: 'Answers with text, an image and a resource.' },
    async () => ({
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: PNG, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: {
            uri: 'test://mixed-content-resource',
            mimeType: 'application/json',
            text: JSON.stringify({ test: 'data', value: 123 }),
          },
        },
      ],
    }),
  );
  server.registerTool('test_error_handling', { description: 'Fails.' }, async () => {
    throw new Error('This tool intentionally returns an error for testing');
  });
  server.registerTool(
    'json_schema_2020_12_tool',
    {
      description: 'Takes arguments described with JSON Schema 2020-12 keywords.',
      inputSchema: fromJsonSchema({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        $defs: {
          address: {
            $anchor: 'addressDef',
            type: 'object',
            properties: { street: { type: 'string' }, city: { type: 'string' } },
          },
        },
        properties: {
          name: { type: 'string' },
          address: { $ref: '#/$defs/address' },
          contactMethod: { type: 'string', enum: ['phone', 'email'] },
          phone: { type: 'string' },
          email: { type: 'string' },
        },
        allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
        if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
        // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword, not a promise
        then: { required: ['phone'] },
        else: { required: ['email'] },
        additionalProperties: false,
      }),
    },
    async (args) => text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`),
  );
  server.registerTool(
    'test_x_mcp_header',
    {
      description: 'Has an argument mirrored into the Mcp-Param-Region header.',
      inputSchema: fromJsonSchema<{ region?: string; level?: number }>({
        type: 'object',
        properties: {
          // The annotation of SEP-2243, unknown to the JSON Schema types.
          region: { type: 'string', ['x-mcp-header' as 'description']: 'Region' },
          level: { type: 'integer' },
        },
      }),
    },
    async (args) => text(`region=${args.region ?? '<none>'}`),
  );
  server.registerTool(
    'test_streaming_elicitation',
    { description: 'Fixture: streaming elicitation.', inputSchema: noArguments },
    async () => text('Only result frames on this stream.'),
  );
}

function registerNotifyingTools(server: McpServer, notify: () => McpEndpoints['notify']): void {
  server.registerTool(
    'test_tool_with_logging',
    { description: 'Logs three messages while it runs.', inputSchema: noArguments },
    async (_args, context) => {
      for (const [index, message] of [
        'Tool execution started',
        'Tool processing data',
        'Tool execution completed',
      ].entries()) {
        if (index > 0) await sleep(50);
        await context.mcpReq.notify({
          method: 'notifications/message',
          params: { level: 'info', data: message },
        });
      }
      return text('Tool with logging executed successfully');
    },
  );
  server.registerTool(
    'test_logging_tool',
    { description: 'Logs through the level-gated channel.', inputSchema: noArguments },
    async (_args, context) => {
      await context.mcpReq.log('info', 'Delivered only at the level the client asked for.');
      return text('Logged.');
    },
  );
  server.registerTool(
    'test_tool_with_progress',
    { description: 'Reports progress 0, 50, 100.', inputSchema: noArguments },
    async (_args, context) => {
      const progressToken = context.mcpReq._meta?.progressToken;
      if (progressToken === undefined) return text('no-progress-token');
      for (const progress of [0, 50, 100]) {
        await context.mcpReq.notify({
          method: 'notifications/progress',
          params: { progressToken, progress, total: 100, message: `Completed step ${progress} of 100` },
        });
        if (progress < 100) await sleep(50);
      }
      return text(String(progressToken));
    },
  );
  server.registerTool(
    'test_trigger_tool_change',
    { description: 'Fixture: trigger tool change.', inputSchema: noArguments },
    async () => {
      notify().toolsChanged();
      return text('tools_list_changed published');
    },
  );
  server.registerTool(
    'test_trigger_prompt_change',
    { description: 'Fixture: trigger prompt change.', inputSchema: noArguments },
    async () => {
      notify().promptsChanged();
      return text('prompts_list_changed published');
    },
  );
}

/** Tools that ask the client something over the 2025 protocol (a server-to-client request). */
function registerClientRequestTools(server: McpServer): void {
  const elicit = async (context: ServerContext, params: ElicitRequestFormParams) => {
    const result = await context.mcpReq.send({ method: 'elicitation/create', params });
    return `action=${result.action}, content=${JSON.stringify(result.content ?? {})}`;
  };
  server.registerTool(
    'test_sampling',
    { description: 'Asks the client for a completion.', inputSchema: z.object({ prompt: z.string() }) },
    async ({ prompt }, context) => {
      const result = await context.mcpReq.send({
        method: 'sampling/createMessage',
        params: { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 },
      });
      const content = Array.isArray(result.content) ? result.content[0] : result.content;
      return text(`LLM response: ${content?.type === 'text' ? content.text : 'No response'}`);
    },
  );
  server.registerTool(
    'test_elicitation',
    { description: 'Asks the user.', inputSchema: z.object({ message: z.string() }) },
    async ({ message }, context) =>
      text(`User response: ${await elicit(context, { ...ask(message, 'response') })}`),
  );
  server.registerTool(
    'test_elicitation_sep1034_defaults',
    { description: 'Asks with a default for every primitive type.', inputSchema: noArguments },
    async (_args, context) =>
      text(
        `Elicitation completed: ${await elicit(context, {
          message: 'Please review and update the form fields with defaults',
          requestedSchema: {
            type: 'object',
            properties: {
              name: { type: 'string', description: 'User name', default: 'John Doe' },
              age: { type: 'integer', description: 'User age', default: 30 },
              score: { type: 'number', description: 'User score', default: 95.5 },
              status: {
                type: 'string',
                description: 'User status',
                enum: ['active', 'inactive', 'pending'],
                default: 'active',
              },
              verified: { type: 'boolean', description: 'Verification status', default: true },
            },
            required: [],
          },
        })}`,
      ),
  );
  const titled = (prefix: string) =>
    ['First', 'Second', 'Third'].map((title, index) => ({
      const: `value${index + 1}`,
      title: `${title} ${prefix}`,
    }));
  server.registerTool(
    'test_elicitation_sep1330_enums',
    { description: 'Asks with every enum form.', inputSchema: noArguments },
    async (_args, context) =>
      text(
        `Elicitation completed: ${await elicit(context, {
          message: 'Please select options from the enum fields',
          requestedSchema: {
            type: 'object',
            properties: {
              untitledSingle: { type: 'string', enum: ['option1', 'option2', 'option3'] },
              titledSingle: { type: 'string', oneOf: titled('Option') },
              legacyEnum: {
                type: 'string',
                enum: ['opt1', 'opt2', 'opt3'],
                enumNames: ['Option One', 'Option Two', 'Option Three'],
              },
              untitledMulti: {
                type: 'array',
                minItems: 1,
                maxItems: 3,
                items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
              },
              titledMulti: { type: 'array', minItems: 1, maxItems: 3, items: { anyOf: titled('Choice') } },
            },
            required: [],
          },
        })}`,
      ),
  );
}

/** Multi-round tool calls of 2026-07-28 (`InputRequiredResult`, SEP-2322). */
function registerInputRequiredTools(
  server: McpServer,
  requestState: ReturnType<typeof createRequestStateCodec<Record<string, unknown>>>,
): void {
  const name = (context: ServerContext, key: string) =>
    acceptedContent<{ name: string }>(context.mcpReq.inputResponses, key)?.name;
  const nonce = () => crypto.randomUUID();
  server.registerTool(
    'test_missing_capability',
    { description: 'Fixture: missing capability.', inputSchema: noArguments },
    async (_args, context) =>
      context.mcpReq.inputResponses?.answer === undefined
        ? inputRequired({
            inputRequests: {
              answer: inputRequired.createMessage({
                messages: [{ role: 'user', content: { type: 'text', text: 'Reply with: pong' } }],
                maxTokens: 16,
              }),
            },
          })
        : text('sampled'),
  );
  server.registerTool(
    'test_input_required_result_elicitation',
    { description: 'Fixture: input required result elicitation.', inputSchema: noArguments },
    async (_a, context) => {
      const given = name(context, 'user_name');
      return typeof given === 'string'
        ? text(`Hello, ${given}!`)
        : inputRequired({
            inputRequests: { user_name: inputRequired.elicit(ask('What is your name?', 'name')) },
          });
    },
  );
  server.registerTool(
    'test_input_required_result_sampling',
    { description: 'Fixture: input required result sampling.', inputSchema: noArguments },
    async (_a, context) => {
      const answer = context.mcpReq.inputResponses?.capital_question as
        | { content?: { text?: string } }
        | undefined;
      return answer !== undefined
        ? text(`Sampling response: ${answer.content?.text ?? JSON.stringify(answer)}`)
        : inputRequired({
            inputRequests: {
              capital_question: inputRequired.createMessage({
                messages: [
                  { role: 'user', content: { type: 'text', text: 'What is the capital of France?' } },
                ],
                maxTokens: 100,
              }),
            },
          });
    },
  );
  server.registerTool(
    'test_input_required_result_list_roots',
    { description: 'Fixture: input required result list roots.', inputSchema: noArguments },
    async (_a, context) => {
      const roots = (
        context.mcpReq.inputResponses?.client_roots as { roots?: { uri?: string }[] } | undefined
      )?.roots;
      return Array.isArray(roots)
        ? text(`Client exposed ${roots.length} root(s): ${roots.map((root) => root.uri).join(', ')}`)
        : inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
    },
  );
  server.registerTool(
    'test_input_required_result_request_state',
    { description: 'Fixture: input required result request state.', inputSchema: noArguments },
    async (_a, context) => {
      if (acceptedContent(context.mcpReq.inputResponses, 'confirm') === undefined) {
        return inputRequired({
          inputRequests: { confirm: inputRequired.elicit(ask('Please confirm', 'ok', 'boolean')) },
          requestState: await requestState.mint({ tool: 'request_state', nonce: nonce() }),
        });
      }
      if (context.mcpReq.requestState() === undefined) {
        throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'Invalid requestState.');
      }
      return text('state-ok: requestState verified and confirmation received');
    },
  );
  server.registerTool(
    'test_input_required_result_multiple_inputs',
    { description: 'Fixture: input required result multiple inputs.', inputSchema: noArguments },
    async (_a, context) => {
      const responses = context.mcpReq.inputResponses;
      const given = name(context, 'user_name');
      const greeting = (responses?.greeting as { content?: { text?: string } } | undefined)?.content?.text;
      const roots = (responses?.client_roots as { roots?: unknown[] } | undefined)?.roots;
      if (typeof given === 'string' && typeof greeting === 'string' && Array.isArray(roots)) {
        return text(`${greeting} ${given}: ${roots.length} root(s) visible`);
      }
      return inputRequired({
        inputRequests: {
          user_name: inputRequired.elicit(ask('What is your name?', 'name')),
          greeting: inputRequired.createMessage({
            messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }],
            maxTokens: 50,
          }),
          client_roots: inputRequired.listRoots(),
        },
        requestState: await requestState.mint({ tool: 'multiple_inputs', nonce: nonce() }),
      });
    },
  );
  server.registerTool(
    'test_input_required_result_multi_round',
    { description: 'Fixture: input required result multi round.', inputSchema: noArguments },
    async (_a, context) => {
      const state = context.mcpReq.requestState<Record<string, unknown>>();
      const round = state?.tool === 'multi_round' && typeof state.round === 'number' ? state.round : 0;
      if (round === 0) {
        return inputRequired({
          inputRequests: { step1: inputRequired.elicit(ask('Step 1: What is your name?', 'name')) },
          requestState: await requestState.mint({ tool: 'multi_round', round: 1, nonce: nonce() }),
        });
      }
      if (round === 1) {
        return inputRequired({
          inputRequests: {
            step2: inputRequired.elicit(ask('Step 2: What is your favorite color?', 'color')),
          },
          requestState: await requestState.mint({
            tool: 'multi_round',
            round: 2,
            name: name(context, 'step1') ?? 'unknown',
            nonce: nonce(),
          }),
        });
      }
      const color =
        acceptedContent<{ color: string }>(context.mcpReq.inputResponses, 'step2')?.color ?? 'unknown';
      return text(`Multi-round complete: ${String(state?.name ?? 'unknown')} likes ${color}`);
    },
  );
  server.registerTool(
    'test_input_required_result_tampered_state',
    { description: 'Fixture: input required result tampered state.', inputSchema: noArguments },
    async (_a, context) =>
      context.mcpReq.requestState() !== undefined &&
      acceptedContent(context.mcpReq.inputResponses, 'confirm') !== undefined
        ? text('integrity-ok: requestState verified')
        : inputRequired({
            inputRequests: { confirm: inputRequired.elicit(ask('Please confirm', 'ok', 'boolean')) },
            requestState: await requestState.mint({ tool: 'tampered_state', nonce: nonce() }),
          }),
  );
  server.registerTool(
    'test_input_required_result_capabilities',
    { description: 'Fixture: input required result capabilities.', inputSchema: noArguments },
    async (_a, context) => {
      if (context.mcpReq.inputResponses !== undefined)
        return text('Capability-aware input requests fulfilled');
      const declared = (
        context.mcpReq.envelope as Record<string, ClientCapabilities | undefined> | undefined
      )?.[CLIENT_CAPABILITIES_META_KEY];
      const inputRequests: InputRequests = {};
      if (declared?.elicitation !== undefined) {
        inputRequests.user_name = inputRequired.elicit(ask('What is your name?', 'name'));
      }
      if (declared?.sampling !== undefined) {
        inputRequests.greeting = inputRequired.createMessage({
          messages: [{ role: 'user', content: { type: 'text', text: 'Generate a short greeting' } }],
          maxTokens: 50,
        });
      }
      if (declared?.roots !== undefined) inputRequests.client_roots = inputRequired.listRoots();
      return Object.keys(inputRequests).length === 0
        ? text('No declared client capability supports an in-band input request')
        : inputRequired({ inputRequests });
    },
  );
}

function registerResources(server: McpServer): void {
  const plain = (uri: string, value: string) => ({
    contents: [{ uri, mimeType: 'text/plain', text: value }],
  });
  server.registerResource(
    'static-text',
    'test://static-text',
    { title: 'Static text', description: 'A static text resource.', mimeType: 'text/plain' },
    async () => plain('test://static-text', 'This is the content of the static text resource.'),
  );
  server.registerResource(
    'static-binary',
    'test://static-binary',
    { title: 'Static binary', description: 'A static image resource.', mimeType: 'image/png' },
    async () => ({ contents: [{ uri: 'test://static-binary', mimeType: 'image/png', blob: PNG }] }),
  );
  server.registerResource(
    'template',
    new ResourceTemplate('test://template/{id}/data', {
      list: undefined,
      complete: { id: (value) => ['1', '2', '3', '42'].filter((id) => id.startsWith(value)) },
    }),
    { title: 'Template', description: 'Data by id.', mimeType: 'application/json' },
    async (uri, { id }) => ({
      contents: [
        {
          uri: uri.href,
          mimeType: 'application/json',
          text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
        },
      ],
    }),
  );
  server.registerResource(
    'watched-resource',
    'test://watched-resource',
    { title: 'Watched', description: 'A resource to subscribe to.', mimeType: 'text/plain' },
    async () => plain('test://watched-resource', 'Watched resource content'),
  );
}

function registerPrompts(server: McpServer): void {
  server.registerPrompt('test_simple_prompt', { description: 'A prompt without arguments.' }, async () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
  }));
  server.registerPrompt(
    'test_prompt_with_arguments',
    {
      description: 'A prompt with two arguments.',
      argsSchema: z.object({
        arg1: completable(z.string().describe('First test argument'), (value) =>
          ['alpha', 'beta', 'gamma'].filter((candidate) => candidate.startsWith(value)),
        ),
        arg2: z.string().describe('Second test argument'),
      }),
    },
    async ({ arg1, arg2 }) => ({
      messages: [
        {
          role: 'user',
          content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` },
        },
      ],
    }),
  );
  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    {
      description: 'A prompt with an embedded resource.',
      argsSchema: z.object({ resourceUri: z.string().describe('URI of the resource to embed') }),
    },
    async ({ resourceUri }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'resource',
            resource: {
              uri: resourceUri,
              mimeType: 'text/plain',
              text: 'Embedded resource content for testing.',
            },
          },
        },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    }),
  );
  server.registerPrompt('test_prompt_with_image', { description: 'A prompt with an image.' }, async () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: PNG, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  }));
  server.registerPrompt(
    'test_input_required_result_prompt',
    { description: 'Asks before it renders.' },
    async (context) => {
      const given = acceptedContent<{ context: string }>(
        (context as ServerContext).mcpReq.inputResponses,
        'user_context',
      );
      return typeof given?.context === 'string'
        ? {
            messages: [
              {
                role: 'user',
                content: { type: 'text', text: `Use the following context: ${given.context}` },
              },
            ],
          }
        : inputRequired({
            inputRequests: {
              user_context: inputRequired.elicit(ask('What context should the prompt use?', 'context')),
            },
          });
    },
  );
}

/** The fixture served on 127.0.0.1 (port 0 unless given): `url` is the MCP endpoint. */
export async function startConformanceServer(port = 0): Promise<{ url: string; close(): Promise<void> }> {
  const requestState = createRequestStateCodec<Record<string, unknown>>({
    key: crypto.getRandomValues(new Uint8Array(32)),
  });
  let endpoints: McpEndpoints | undefined;
  endpoints = createMcpEndpoint(() => buildConformanceServer(() => endpoints!.notify, requestState), {
    sessions: true,
  });
  const endpoint = endpoints.standalone;
  const node = await serve(
    {
      handle: (request) =>
        new URL(request.url).pathname === '/mcp'
          ? endpoint.fetch(request)
          : Promise.resolve(new Response('Not found', { status: 404 })),
      close: () => endpoint.close(),
    },
    { port, signals: false },
  );
  return { url: `${node.url}/mcp`, close: () => node.close() };
}
