/**
 * What `fusion serve` offers operators, through the built CLI: Prometheus metrics at `/metrics` by
 * default (off with FUSION_METRICS=0), JSON logs with FUSION_LOG=json, and diagnostics at
 * `/internal/diagnostics` when API keys are on (or FUSION_DIAGNOSTICS=1).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { type RunningCli, spawnCli } from '../support/spawn-cli.js';

let upstream: MockUpstream;
beforeAll(async () => {
  upstream = await startMockUpstream();
});
afterAll(() => upstream?.close());

describe('fusion serve: /metrics', () => {
  let cli: RunningCli;
  beforeAll(async () => {
    cli = await spawnCli(['serve'], { FUSION_UPSTREAMS: `lab=${upstream.baseURL}` });
  });
  afterAll(() => cli?.stop('SIGKILL'));

  it('serves Prometheus metrics by default, counting real requests', async () => {
    const client = new OpenAI({ baseURL: `${cli.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    await client.chat.completions.create({
      model: 'lab/qwen2.5-0.5b-instruct-4bit',
      messages: [{ role: 'user', content: 'Hi' }],
    });
    const response = await fetch(`${cli.url}/metrics`);
    expect(response.status).toBe(200);
    const families = parsePrometheusText(await response.text());
    const labels = { route: '/v1/chat/completions', model: 'lab/qwen2.5-0.5b-instruct-4bit', status: '200' };
    expect(sampleValue(families, 'fusion_http_requests_total', labels)).toBe(1);
    expect(
      sampleValue(families, 'fusion_tokens_total', { target: 'lab/qwen2.5-0.5b-instruct-4bit' }),
    ).toBeGreaterThan(0);
  });
});

describe('fusion serve: FUSION_METRICS=0', () => {
  it('serves no /metrics', async () => {
    const cli = await spawnCli(['serve'], { FUSION_UPSTREAMS: '', FUSION_METRICS: '0' });
    try {
      expect((await fetch(`${cli.url}/metrics`)).status).toBe(404);
    } finally {
      await cli.stop('SIGKILL');
    }
  });
});

describe('fusion serve: FUSION_LOG=json', () => {
  async function chatThrough(env: Record<string, string>): Promise<Record<string, unknown>[]> {
    const cli = await spawnCli(['serve'], { FUSION_UPSTREAMS: `lab=${upstream.baseURL}`, ...env });
    try {
      const client = new OpenAI({ baseURL: `${cli.url}/v1`, apiKey: 'sk-never-logged', maxRetries: 0 });
      await client.chat.completions.create(
        {
          model: 'lab/qwen2.5-0.5b-instruct-4bit',
          messages: [{ role: 'user', content: 'secret prompt text' }],
        },
        { headers: { 'x-request-id': 'json-log-1' } },
      );
      await vi.waitFor(() => expect(cli.output()).toContain('"msg":"request"'));
      return cli
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    } finally {
      await cli.stop('SIGKILL');
    }
  }

  it('writes pino JSON lines with the request id, without the prompt or the key', async () => {
    const lines = await chatThrough({ FUSION_LOG: 'json' });
    expect(lines.find((line) => line.msg === 'request')).toMatchObject({
      level: 30,
      requestId: 'json-log-1',
      method: 'POST',
      path: '/v1/chat/completions',
      status: 200,
    });
    expect(lines.some((line) => line.msg === 'model registered')).toBe(true);
    const text = JSON.stringify(lines);
    expect(text).not.toContain('secret prompt text');
    expect(text).not.toContain('sk-never-logged');
  });

  it('logs prompts with FUSION_LOG_PROMPTS=1', async () => {
    const lines = await chatThrough({ FUSION_LOG: 'json', FUSION_LOG_PROMPTS: '1' });
    expect(lines.find((line) => line.msg === 'prompt')).toMatchObject({
      requestId: 'json-log-1',
      messages: [{ role: 'user', content: 'secret prompt text' }],
    });
  });
});

describe('fusion serve: /internal/diagnostics', () => {
  it('is off by default without API keys', async () => {
    const cli = await spawnCli(['serve'], { FUSION_UPSTREAMS: '' });
    try {
      expect((await fetch(`${cli.url}/internal/diagnostics`)).status).toBe(404);
    } finally {
      await cli.stop('SIGKILL');
    }
  });

  it('is on behind an admin key when API keys are on', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'fusion-diagnostics-'));
    await writeFile(
      join(directory, 'fusion.config.json'),
      JSON.stringify({ apiKeys: [{ id: 'ops', key: 'ops-key', admin: true }, 'app-key'] }),
    );
    const cli = await spawnCli(['serve'], { FUSION_UPSTREAMS: `lab=${upstream.baseURL}` }, directory);
    try {
      expect((await fetch(`${cli.url}/internal/diagnostics`)).status).toBe(401);
      const app = await fetch(`${cli.url}/internal/diagnostics`, {
        headers: { authorization: 'Bearer app-key' },
      });
      expect(app.status).toBe(403);
      const response = await fetch(`${cli.url}/internal/diagnostics`, {
        headers: { authorization: 'Bearer ops-key' },
      });
      expect(response.status).toBe(200);
      const report = (await response.json()) as {
        models: { id: string }[];
        process: { memory: { rss: number } };
      };
      expect(report.models.map((model) => model.id)).toContain('lab/qwen2.5-0.5b-instruct-4bit');
      expect(report.process.memory.rss).toBeGreaterThan(0);
      // Metrics sit behind the key too.
      expect((await fetch(`${cli.url}/metrics`)).status).toBe(401);
    } finally {
      await cli.stop('SIGKILL');
      await rm(directory, { recursive: true, force: true });
    }
  });
});
