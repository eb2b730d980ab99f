import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, type ConfigProblem } from './config-error.js';
import { configJsonSchema } from './config-schema.js';
import { resolveConfig } from './resolve-config.js';

describe('the config schema: every mistake named with its key, its value and what was expected', () => {
  let cwd: string;
  beforeEach(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'fusion-schema-'));
  });
  afterEach(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  /** The problems `resolveConfig` finds in this fusion.config.json and environment. */
  async function problems(
    config: unknown,
    env: Record<string, string> = {},
  ): Promise<{ lines: string[]; problems: readonly ConfigProblem[] }> {
    await writeFile(join(cwd, 'fusion.config.json'), JSON.stringify(config));
    const error = await resolveConfig({ cwd, env }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ConfigError);
    const configError = error as ConfigError;
    return { lines: configError.message.split('\n'), problems: configError.problems };
  }

  it.each([
    [
      'a misspelt key ("upstream")',
      { upstream: { lab: 'http://127.0.0.1:8000/v1' } },
      "  upstream: unknown key; did you mean 'upstreams'?",
    ],
    [
      'a port that is not a number',
      { port: 'abc' },
      '  port: got "abc", expected an integer from 0 to 65535',
    ],
    ['a port out of range', { port: 70_000 }, '  port: got 70000, expected an integer from 0 to 65535'],
    [
      'a concurrency in words',
      { queue: { perModelConcurrency: 'four' } },
      '  queue.perModelConcurrency: got "four", expected a positive integer',
    ],
    [
      'an alias to an upstream that does not exist',
      { upstreams: { lab: 'http://127.0.0.1:8000/v1' }, aliases: { default: 'gpu/qwen3-4b' } },
      '  aliases.default: got "gpu/qwen3-4b", expected a model of a configured upstream (lab), pipeline or alias; there is no upstream \'gpu\'',
    ],
    [
      'an alias to a model the upstream does not list',
      {
        upstreams: { lab: { baseURL: 'http://127.0.0.1:8000/v1', models: ['a'] } },
        aliases: { fast: 'lab/b' },
      },
      '  aliases.fast: got "lab/b", expected one of the models upstream \'lab\' serves: lab/a',
    ],
    [
      'an alias with no upstream at all',
      { aliases: { default: 'lab/qwen3-4b' } },
      '  aliases.default: got "lab/qwen3-4b", expected a model of an upstream, but none is configured (FUSION_UPSTREAMS=lab=http://…/v1 adds \'lab\')',
    ],
    [
      'a misspelt upstream option',
      { upstreams: { lab: { baseURL: 'http://a/v1', maxSocket: 4 } } },
      "  upstreams.lab.maxSocket: unknown key; did you mean 'maxSockets'?",
    ],
    [
      'a zero socket count',
      { upstreams: { lab: { baseURL: 'http://a/v1', maxSockets: 0 } } },
      '  upstreams.lab.maxSockets: got 0, expected a positive integer',
    ],
    [
      'a fractional concurrency',
      { upstreams: { lab: { baseURL: 'http://a/v1', concurrency: 1.5 } } },
      '  upstreams.lab.concurrency: got 1.5, expected a positive integer',
    ],
    [
      'an unknown flavor',
      { upstreams: { lab: { baseURL: 'http://a/v1', flavor: 'vllm' } } },
      '  upstreams.lab.flavor: got "vllm", expected "auto" or "openai" or "mlx-openai-server"',
    ],
    [
      'an upstream without a base URL',
      { upstreams: { lab: { apiKey: 'x' } } },
      '  upstreams.lab.baseURL: missing; expected a base URL',
    ],
    [
      'a header that is not a string',
      { upstreams: { lab: { baseURL: 'http://a/v1', headers: { a: 1 } } } },
      '  upstreams.lab.headers.a: got 1, expected a string',
    ],
    [
      'an upstream that is a number',
      { upstreams: { lab: 42 } },
      '  upstreams.lab: got 42, expected a base URL or an object { baseURL, … }',
    ],
    [
      'a negative timeout in the list form',
      { upstreams: [{ name: 'lab', baseURL: 'http://a/v1', timeoutMs: -1 }] },
      '  upstreams[0].timeoutMs: got -1, expected a positive integer',
    ],
    [
      'an ftp upstream',
      { upstreams: { lab: { baseURL: 'ftp://a/v1' } } },
      '  upstreams.lab.baseURL: got "ftp://a/v1", expected an http or https URL with its /v1, e.g. http://127.0.0.1:8000/v1',
    ],
    [
      'an upstream name with a space',
      { upstreams: { 'la b': 'http://a/v1' } },
      `  upstreams["la b"]: got "la b", expected a name of letters, digits, '_', '.' and '-'`,
    ],
    [
      'an upstream name used twice',
      {
        upstreams: [
          { name: 'lab', baseURL: 'http://a/v1' },
          { name: 'lab', baseURL: 'http://b/v1' },
        ],
      },
      '  upstreams[1].name: got "lab", expected a name not used by another upstream',
    ],
    [
      'an API key id used twice',
      {
        apiKeys: [
          { id: 'team', sha256: 'a'.repeat(64) },
          { id: 'team', key: 'fk_x' },
        ],
      },
      '  apiKeys[1].id: got "team", expected an id that apiKeys[0] does not have too',
    ],
    [
      "an API key id equal to a key's derived id",
      // 'fk_one' is known by key- and the first 12 hex digits of its SHA-256.
      { apiKeys: [{ id: 'key-4dda93076cc3', key: 'fk_x' }, 'fk_one'] },
      '  apiKeys[1]: got "key-4dda93076cc3", expected an id that apiKeys[0] does not have too (a key given in clear is known by its derived id)',
    ],
    [
      'a retry count below zero',
      { resilience: { retry: { maxRetries: -1 } } },
      '  resilience.retry.maxRetries: got -1, expected an integer ≥ 0',
    ],
    ['mcp: true', { mcp: true }, '  mcp: got true, expected false or { path, … }'],
    [
      'a pipeline without targets',
      { pipelines: [{ name: 'fusion/x', targets: [] }] },
      '  pipelines[0].targets: got [], expected at least one target',
    ],
    [
      'a missing MLX models folder',
      { mlx: { modelsDir: './nope' } },
      /^ {2}mlx\.modelsDir: got "\.\/nope", expected a folder of MLX model directories; .*nope does not exist$/,
    ],
    ['a config that is not an object', [1, 2], '  (the config): got [1,2], expected an object'],
    [
      'an MCP server with a dot in its name',
      { mcpServers: { 'my.fs': { command: 'npx' } } },
      '  mcpServers["my.fs"]: got "my.fs", expected 1-32 letters, digits or dashes',
    ],
    [
      'a misspelt key of an MCP server',
      { mcpServers: { fs: { command: 'npx', arg: ['x'] } } },
      "  mcpServers.fs.arg: unknown key; did you mean 'args'?",
    ],
    [
      'an MCP server that is neither stdio nor HTTP',
      { mcpServers: { fs: { args: ['x'] } } },
      /^ {2}mcpServers\.fs: .*expected \{ command, args, env \} \(a stdio server\) or \{ url, headers \}/,
    ],
    [
      'an MCP server with both a command and a url',
      { mcpServers: { fs: { command: 'npx', url: 'http://127.0.0.1:1/mcp' } } },
      /^ {2}mcpServers\.fs: .*expected \{ command, args, env \} \(a stdio server\) or \{ url, headers \}/,
    ],
    [
      'an SSE-only MCP server',
      { mcpServers: { old: { type: 'sse', url: 'http://x/sse' } } },
      /^ {2}mcpServers\.old\.type: got "sse", expected .*SSE-only servers are not supported/,
    ],
  ])('refuses %s', async (_what, config, line) => {
    const { lines } = await problems(config);
    expect(lines[0]).toBe('fusion.config.json has 1 mistake:');
    if (typeof line === 'string') expect(lines).toContain(line);
    else
      expect(
        lines.some((each) => line.test(each)),
        lines.join('\n'),
      ).toBe(true);
  });

  it('accepts the mcpServers shape of Claude Desktop and Cursor', async () => {
    const mcpServers = {
      fs: { command: 'npx', args: ['-y', 'server-filesystem', '.'], env: { A: '1' } },
      search: { url: 'https://tools.example.com/mcp', headers: { Authorization: 'Bearer x' } },
      typed: { type: 'streamable-http', url: 'http://127.0.0.1:9000/mcp', allowDestructive: ['wipe'] },
      off: { command: 'node', disabled: true },
    };
    await writeFile(join(cwd, 'fusion.config.json'), JSON.stringify({ mcpServers, mcp: { servers: false } }));
    const config = await resolveConfig({ cwd, env: {} });
    expect(config.mcpServers).toEqual(mcpServers);
    expect(config.mcp).toEqual({ servers: false });
  });

  it('lists every mistake at once, those of the environment too', async () => {
    const { lines, problems: found } = await problems(
      { upstream: {}, port: 'abc', queue: { perModelConcurrency: 'four', maxWaitng: 3 } },
      { FUSION_PORT: 'eighty', FUSION_UPSTREAMS: 'lab,gpu=ftp://x', FUSION_LOG: 'all' },
    );
    expect(found.map((problem) => `${problem.source} ${problem.key}`)).toEqual([
      'fusion.config.json port',
      'fusion.config.json queue.perModelConcurrency',
      'fusion.config.json queue.maxWaitng',
      'fusion.config.json upstream',
      'environment FUSION_PORT',
      'environment FUSION_UPSTREAMS',
      'environment FUSION_UPSTREAMS',
      'environment FUSION_LOG',
    ]);
    expect(lines).toEqual([
      'fusion.config.json has 4 mistakes:',
      '  port: got "abc", expected an integer from 0 to 65535',
      '  queue.perModelConcurrency: got "four", expected a positive integer',
      "  queue.maxWaitng: unknown key; did you mean 'maxWaiting'?",
      "  upstream: unknown key; did you mean 'upstreams'?",
      'the environment has 4 mistakes:',
      '  FUSION_PORT: got "eighty", expected a port number from 0 to 65535 (0 picks a free one)',
      '  FUSION_UPSTREAMS: got "lab", expected name=baseURL, e.g. lab=http://127.0.0.1:8000/v1',
      '  FUSION_UPSTREAMS: got "gpu=ftp://x", expected an http or https URL after the name, e.g. lab=http://127.0.0.1:8000/v1',
      "  FUSION_LOG: got \"all\", expected 'requests' (one JSON line per request), 'json' (pino logs) or nothing",
    ]);
  });

  it('reports a FUSION_MLX_MODELS folder that does not exist', async () => {
    const { lines } = await problems({}, { FUSION_MLX_MODELS: './nope' });
    expect(lines[0]).toBe('the environment has 1 mistake:');
    expect(lines[1]).toMatch(
      /^ {2}FUSION_MLX_MODELS: got "\.\/nope", expected a folder of MLX model directories; .*\/nope does not exist$/,
    );
  });

  it('accepts aliases to upstream models, pipelines, other aliases and in-process models', async () => {
    await writeFile(
      join(cwd, 'fusion.config.json'),
      JSON.stringify({
        $schema: './node_modules/@fusionkit/cli/fusion.config.schema.json',
        upstreams: { lab: 'http://127.0.0.1:8000/v1/' },
        pipelines: [{ name: 'fusion/fast', strategy: 'race', targets: ['lab/a', 'lab/b'] }],
        aliases: {
          default: 'lab/qwen',
          fast: 'fusion/fast',
          again: 'default',
          local: 'mlx/qwen3',
          bare: 'qwen',
        },
        mlx: { modelsDir: '.' },
      }),
    );
    const config = await resolveConfig({ cwd, env: { FUSION_UPSTREAMS: 'gpu=http://10.0.0.2:8000/v1' } });
    expect(config).not.toHaveProperty('$schema');
    expect(config.upstreams).toEqual([
      { name: 'lab', baseURL: 'http://127.0.0.1:8000/v1' },
      { name: 'gpu', baseURL: 'http://10.0.0.2:8000/v1' },
    ]);
    expect(config.mlx).toEqual({ modelsDir: cwd });
  });

  it('notes a FUSION_* variable nobody reads that looks like one we do', async () => {
    await writeFile(join(cwd, 'fusion.config.json'), '{}');
    const config = await resolveConfig({
      cwd,
      env: { FUSION_UPSTREAM: 'lab=http://a/v1', FUSION_CHROMIUM: 'x' },
    });
    expect(config.notes).toEqual([
      'FUSION_UPSTREAM is not read by fusion serve; did you mean FUSION_UPSTREAMS?',
    ]);
  });
});

describe('fusion.config.schema.json', () => {
  it('is the JSON Schema of the config schema (run `npm run schema` after changing it)', async () => {
    const file = new URL('../../fusion.config.schema.json', import.meta.url);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(configJsonSchema());
  });

  it('refuses unknown keys and describes the keys for editors', () => {
    const schema = configJsonSchema() as {
      additionalProperties: boolean;
      properties: Record<string, { description?: string }>;
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.port?.description).toMatch(/FUSION_PORT/);
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['$schema', 'upstreams', 'queue']));
  });
});
