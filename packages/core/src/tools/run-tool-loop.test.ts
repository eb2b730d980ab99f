import { describe, expect, it, vi } from 'vitest';
import { createFusion } from '../fusion/fusion.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { PluginV1 } from '../spec/plugin/v1/plugin-v1.js';
import type { ToolV1 } from '../spec/tool/v1/tool-v1.js';
import { createToolCallingProvider, toolMessages } from './__fixtures__/tool-calling-provider.js';
import { TOOL_POLICY } from './tool-policy.js';

function tool(name: string, overrides: Partial<ToolV1> & Record<symbol, unknown> = {}): ToolV1 {
  return {
    specificationVersion: 'v1',
    name,
    description: `The ${name} tool.`,
    inputSchema: { type: 'object', properties: { city: { type: 'string' } } },
    annotations: { readOnlyHint: true },
    async doExecute(input) {
      return { content: `${name}:${JSON.stringify(input)}` };
    },
    ...overrides,
  };
}

function toolsPlugin(tools: ToolV1[]): PluginV1 {
  return {
    specificationVersion: 'v1',
    name: 'test-tools',
    setup(api) {
      for (const entry of tools) api.registerTool(entry);
    },
  };
}

/** A model that calls `weather` once, then answers with what the tool said. */
function weatherModel() {
  return createToolCallingProvider((request: ChatRequest) => {
    const results = toolMessages(request);
    if (results.length === 0) return { toolCalls: [{ name: 'srv__weather', arguments: '{"city":"Paris"}' }] };
    return { content: `It says: ${results.join(' | ')}` };
  });
}

const ask = (extra: Partial<ChatRequest> = {}): ChatRequest => ({
  model: 'fake/tools',
  messages: [{ role: 'user', content: 'Weather in Paris?' }],
  fusion_tools: ['srv__*'],
  ...extra,
});

describe('the tool loop in fusion.chat', () => {
  it('offers the named tools, runs the call and feeds the result back until an answer', async () => {
    const provider = weatherModel();
    const fusion = createFusion({ providers: [provider], plugins: [toolsPlugin([tool('srv__weather')])] });
    const result = await fusion.chat(ask());
    expect(result.choices[0]?.message.content).toBe('It says: srv__weather:{"city":"Paris"}');
    expect(result.usage?.total_tokens).toBe(30);
    expect(result.fusion_tool_calls).toEqual([
      expect.objectContaining({ step: 1, name: 'srv__weather', is_error: false, truncated: false }),
    ]);
    const first = provider.requests[0]!;
    expect(first.fusion_tools).toBeUndefined();
    expect(first.tools?.map((definition) => definition.function.name)).toEqual(['srv__weather']);
    expect(provider.requests[1]!.messages.at(-2)).toMatchObject({
      role: 'assistant',
      tool_calls: [{ id: 'call_1_0' }],
    });
    await fusion.close();
  });

  it('streams the final answer after the tool rounds, as one completion', async () => {
    const fusion = createFusion({
      providers: [weatherModel()],
      plugins: [toolsPlugin([tool('srv__weather')])],
    });
    const chunks = [];
    for await (const chunk of fusion.stream(ask())) chunks.push(chunk);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('It says: srv__weather:{"city":"Paris"}');
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    expect(chunks.filter((chunk) => chunk.choices[0]?.delta.role).length).toBe(1);
    expect(chunks.some((chunk) => chunk.choices[0]?.delta.tool_calls)).toBe(false);
    const last = chunks.at(-1)!;
    expect(last.choices[0]?.finish_reason).toBe('stop');
    expect(last.usage?.total_tokens).toBe(30);
    expect(last.fusion_tool_calls).toHaveLength(1);
    await fusion.close();
  });

  it('stops after max_steps rounds and asks once more with tool_choice none', async () => {
    const provider = createToolCallingProvider((request) =>
      request.tool_choice === 'none'
        ? { content: 'Giving up on tools.' }
        : { toolCalls: [{ name: 'srv__weather', arguments: '{}' }] },
    );
    const fusion = createFusion({ providers: [provider], plugins: [toolsPlugin([tool('srv__weather')])] });
    const result = await fusion.chat(ask({ fusion_tools: { tools: ['srv__weather'], max_steps: 2 } }));
    expect(result.choices[0]?.message.content).toBe('Giving up on tools.');
    expect(provider.requests).toHaveLength(3);
    expect(result.fusion_tool_calls).toHaveLength(2);
    await fusion.close();
  });

  it('gives tool failures, bad arguments, unknown tools and timeouts to the model as tool errors', async () => {
    const failing = tool('srv__broken', {
      async doExecute() {
        throw new Error('disk on fire');
      },
    });
    const slow = tool('srv__slow', {
      [TOOL_POLICY]: { timeoutMs: 50 },
      doExecute: () => new Promise(() => {}),
    });
    const provider = createToolCallingProvider((request) => {
      if (toolMessages(request).length > 0) return { content: toolMessages(request).join('\n') };
      return {
        toolCalls: [
          { name: 'srv__broken', arguments: '{}' },
          { name: 'srv__weather', arguments: '{not json' },
          { name: 'srv__missing', arguments: '{}' },
          { name: 'srv__slow', arguments: '{}' },
        ],
      };
    });
    const fusion = createFusion({
      providers: [provider],
      plugins: [toolsPlugin([failing, slow, tool('srv__weather')])],
    });
    const result = await fusion.chat(ask());
    const lines = result.choices[0]?.message.content?.split('\n') ?? [];
    expect(lines[0]).toBe("Error: tool 'srv__broken' failed: disk on fire");
    expect(lines[1]).toMatch(/^Error: The arguments are not valid JSON/);
    expect(lines[2]).toBe("Error: there is no tool named 'srv__missing'.");
    expect(lines[3]).toBe("Error: tool 'srv__slow' did not answer within 50 ms.");
    expect((result.fusion_tool_calls as { is_error: boolean }[]).every((step) => step.is_error)).toBe(true);
    await fusion.close();
  });

  it('cuts long results to the budget with a marker', async () => {
    const long = tool('srv__long', {
      [TOOL_POLICY]: { maxResultChars: 100 },
      async doExecute() {
        return { content: 'x'.repeat(1000) };
      },
    });
    const provider = createToolCallingProvider((request) =>
      toolMessages(request).length
        ? { content: toolMessages(request)[0]! }
        : { toolCalls: [{ name: 'srv__long', arguments: '{}' }] },
    );
    const fusion = createFusion({ providers: [provider], plugins: [toolsPlugin([long])] });
    const result = await fusion.chat(ask());
    expect(result.choices[0]?.message.content).toBe(
      `${'x'.repeat(100)}\n[truncated: showing 100 of 1000 characters]`,
    );
    expect(result.fusion_tool_calls).toEqual([expect.objectContaining({ truncated: true })]);
    await fusion.close();
  });

  it('runs destructive tools only when their policy allows them', async () => {
    let deleted = 0;
    const remove = (name: string, allow: boolean) =>
      tool(name, {
        annotations: { destructiveHint: true },
        ...(allow ? { [TOOL_POLICY]: { allowDestructive: true } } : {}),
        async doExecute() {
          deleted++;
          return { content: 'deleted' };
        },
      });
    const unannotated = tool('srv__unannotated', { annotations: {} });
    const provider = createToolCallingProvider((request) =>
      toolMessages(request).length
        ? { content: toolMessages(request).join(' / ') }
        : {
            toolCalls: [
              { name: 'srv__delete', arguments: '{}' },
              { name: 'srv__delete_allowed', arguments: '{}' },
            ],
          },
    );
    const fusion = createFusion({
      providers: [provider],
      plugins: [
        toolsPlugin([remove('srv__delete', false), remove('srv__delete_allowed', true), unannotated]),
      ],
    });
    const result = await fusion.chat(ask());
    expect(provider.requests[0]!.tools?.map((definition) => definition.function.name)).toEqual([
      'srv__delete_allowed',
    ]);
    expect(result.choices[0]?.message.content).toBe("Error: there is no tool named 'srv__delete'. / deleted");
    expect(deleted).toBe(1);
    await expect(fusion.chat(ask({ fusion_tools: ['srv__delete'] }))).rejects.toMatchObject({
      status: 400,
      param: 'fusion_tools',
    });
    await expect(fusion.chat(ask({ fusion_tools: ['srv__unannotated'] }))).rejects.toMatchObject({
      status: 400,
    });
    await fusion.close();
  });

  it('hands a round that calls a client tool back to the client', async () => {
    const provider = createToolCallingProvider(() => ({
      toolCalls: [{ name: 'client_lookup', arguments: '{"q":1}' }],
    }));
    const fusion = createFusion({ providers: [provider], plugins: [toolsPlugin([tool('srv__weather')])] });
    const request = ask({
      tools: [{ type: 'function', function: { name: 'client_lookup', parameters: { type: 'object' } } }],
    });
    const result = await fusion.chat(request);
    expect(result.choices[0]?.finish_reason).toBe('tool_calls');
    expect(result.choices[0]?.message.tool_calls?.[0]?.function.name).toBe('client_lookup');
    const chunks = [];
    for await (const chunk of fusion.stream(request)) chunks.push(chunk);
    const last = chunks.at(-1)!;
    expect(last.choices[0]?.finish_reason).toBe('tool_calls');
    expect(last.choices[0]?.delta.tool_calls?.[0]).toMatchObject({
      index: 0,
      function: { name: 'client_lookup', arguments: '{"q":1}' },
    });
    await fusion.close();
  });

  it('refuses malformed fusion_tools, unknown names and name clashes with 400', async () => {
    const fusion = createFusion({
      providers: [weatherModel()],
      plugins: [toolsPlugin([tool('srv__weather')])],
    });
    for (const fusionTools of ['srv__*', [3], { tools: ['*'], max_steps: 0 }, ['nope']]) {
      await expect(fusion.chat(ask({ fusion_tools: fusionTools }))).rejects.toMatchObject({
        status: 400,
        param: 'fusion_tools',
      });
    }
    const clash = ask({ tools: [{ type: 'function', function: { name: 'srv__weather' } }] });
    await expect(fusion.chat(clash)).rejects.toMatchObject({ status: 400 });
    await fusion.close();
  });

  it('stops the running tool when the request is aborted', async () => {
    let toolSignal: AbortSignal | undefined;
    const hanging = tool('srv__hang', {
      doExecute: (_input, options) => {
        toolSignal = options.signal;
        return new Promise(() => {});
      },
    });
    const provider = createToolCallingProvider(() => ({
      toolCalls: [{ name: 'srv__hang', arguments: '{}' }],
    }));
    const fusion = createFusion({ providers: [provider], plugins: [toolsPlugin([hanging])] });
    const controller = new AbortController();
    const answer = fusion.chat(ask(), { signal: controller.signal });
    await vi.waitFor(() => expect(toolSignal).toBeDefined());
    controller.abort();
    await expect(answer).rejects.toMatchObject({ code: 'aborted' });
    expect(toolSignal?.aborted).toBe(true);
    await fusion.close();
  });

  it('runs through the OpenAI-compatible HTTP API, streamed and not', async () => {
    const fusion = createFusion({
      providers: [weatherModel()],
      plugins: [toolsPlugin([tool('srv__weather')])],
    });
    const post = (body: unknown) =>
      fusion.handle(
        new Request('http://localhost/v1/chat/completions', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
      );
    const json = (await (await post(ask())).json()) as { choices: { message: { content: string } }[] };
    expect(json.choices[0]?.message.content).toBe('It says: srv__weather:{"city":"Paris"}');
    const stream = await (await post({ ...ask(), stream: true })).text();
    const text = stream
      .split('\n')
      .filter((line) => line.startsWith('data: {'))
      .map((line) => JSON.parse(line.slice(6)).choices[0]?.delta?.content ?? '')
      .join('');
    expect(text).toBe('It says: srv__weather:{"city":"Paris"}');
    const bad = await post(ask({ fusion_tools: ['nope'] }));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { param: 'fusion_tools' } });
    await fusion.close();
  });
});
