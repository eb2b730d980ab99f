/**
 * What `fusion serve` (the built CLI) says at start and to the first requests when something is
 * missing: an upstream that is down, a port in use, a wildcard host, aliases, an empty MLX folder.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.js';
import { runCliToEnd, spawnCli } from '../support/spawn-cli.js';

const MODEL = 'qwen2.5-0.5b-instruct-4bit';

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'fusion-startup-'));
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

/** A port nobody listens on. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const chat = (url: string, model: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hi' }] }),
  });

describe('fusion serve with an upstream that is down', () => {
  it('names the upstream in the banner, /health and a chat for its model (503, not 404)', async () => {
    const port = await freePort();
    const cli = await spawnCli(['serve'], { FUSION_UPSTREAMS: `lab=http://127.0.0.1:${port}/v1` }, cwd);
    try {
      await vi.waitFor(() =>
        expect(cli.output()).toContain(`upstream 'lab' (http://127.0.0.1:${port}/v1) has no models yet`),
      );
      expect(cli.output()).toContain('no model yet: GET /health answers 503 until a provider below answers.');
      expect(cli.output()).not.toContain('add one: FUSION_UPSTREAMS');

      const health = await fetch(`${cli.url}/health`);
      expect(health.status).toBe(503);
      const report = (await health.json()) as { message: string };
      expect(report.message).toMatch(/^No model yet: provider 'lab' has listed no model \(.*unreachable/);
      expect(report.message).not.toContain('configured');

      const response = await chat(cli.url, `lab/${MODEL}`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { error: { message: string; code: string } };
      expect(body.error.message).toMatch(
        new RegExp(
          `^The model 'lab/${MODEL}' cannot be served yet: provider 'lab' has listed no model \\(.*unreachable`,
        ),
      );
    } finally {
      await cli.stop('SIGKILL');
    }
  });
});

describe('fusion serve with aliases', () => {
  let upstream: MockUpstream;
  beforeAll(async () => {
    upstream = await startMockUpstream();
  });
  afterAll(async () => {
    await upstream?.close();
  });

  it('lists aliases in the banner and /v1/models, and names the missing target of one', async () => {
    const dir = join(cwd, 'aliases');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'fusion.config.json'),
      JSON.stringify({ mcp: false, aliases: { default: `lab/${MODEL}`, fast: 'lab/not-there' } }),
    );
    const cli = await spawnCli(['serve'], { FUSION_UPSTREAMS: `lab=${upstream.baseURL}` }, dir);
    try {
      await vi.waitFor(() => expect(cli.output()).toContain(`  default → lab/${MODEL}`));
      expect(cli.output()).toContain(
        "alias 'fast': The alias 'fast' names 'lab/not-there', which does not exist. 'lab' serves",
      );
      const list = (await (await fetch(`${cli.url}/v1/models`)).json()) as {
        data: { id: string; alias_of?: string }[];
      };
      expect(list.data).toContainEqual(expect.objectContaining({ id: 'default', alias_of: `lab/${MODEL}` }));
      expect(list.data.map((model) => model.id)).not.toContain('fast');

      expect((await chat(cli.url, 'default')).status).toBe(200);
      const missing = await chat(cli.url, 'fast');
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { error: { message: string } }).error.message).toContain(
        "The alias 'fast' names 'lab/not-there', which does not exist.",
      );
    } finally {
      await cli.stop('SIGKILL');
    }
  });
});

describe('fusion serve where it cannot or should say where it listens', () => {
  it('a port in use: one line naming FUSION_PORT, exit 2, no stack', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const result = await runCliToEnd(['serve'], { FUSION_PORT: String(port) }, cwd);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr.trim().split('\n').at(-1)).toBe(
        `fusion: FUSION_PORT=${port}: 127.0.0.1:${port} is in use by another program; set FUSION_PORT to a free port (0 picks one).`,
      );
      expect(result.stderr).not.toMatch(/\n\s+at |EADDRINUSE/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('FUSION_HOST=0.0.0.0: says it listens on every interface, and the URL to use here', async () => {
    const cli = await spawnCli(['serve'], { FUSION_HOST: '0.0.0.0', FUSION_UPSTREAMS: '' }, cwd);
    try {
      expect(cli.output()).toMatch(
        /fusion listening on http:\/\/0\.0\.0\.0:(\d+) \(every interface; from this machine: http:\/\/127\.0\.0\.1:\1\)/,
      );
      expect(cli.output()).not.toContain('listening on http://127.0.0.1');
    } finally {
      await cli.stop('SIGKILL');
    }
  });

  it('FUSION_MLX_MODELS naming a folder without models: says so', async () => {
    const models = join(cwd, 'empty-models');
    const cache = join(cwd, 'empty-hf-cache');
    await mkdir(models, { recursive: true });
    await mkdir(cache, { recursive: true });
    const cli = await spawnCli(
      ['serve'],
      { FUSION_MLX_MODELS: models, HF_HUB_CACHE: cache, FUSION_UPSTREAMS: '' },
      cwd,
    );
    try {
      await vi.waitFor(() =>
        expect(cli.output()).toContain(`mlx: no model in ${models} nor in the Hugging Face cache`),
      );
      expect(cli.output()).not.toContain('add one: FUSION_UPSTREAMS');
    } finally {
      await cli.stop('SIGKILL');
    }
  });
});
