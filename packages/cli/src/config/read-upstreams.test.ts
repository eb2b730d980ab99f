import { describe, expect, it } from 'vitest';
import { ConfigError } from './parse-upstreams.js';
import { readUpstreams } from './read-upstreams.js';

describe('readUpstreams', () => {
  it('reads the string form, the object form and a list', () => {
    expect(
      readUpstreams(
        {
          lab: 'http://127.0.0.1:8000/v1/',
          gpu: {
            baseURL: 'http://10.0.0.2:8000/v1',
            apiKey: 'sk-1',
            headers: { 'x-tenant': 'a' },
            flavor: 'mlx-openai-server',
            concurrency: 4,
            maxSockets: 16,
            timeoutMs: 30_000,
            healthTimeoutMs: 2000,
            models: ['qwen3-4b'],
          },
        },
        'fusion.config.json',
      ),
    ).toEqual([
      { name: 'lab', baseURL: 'http://127.0.0.1:8000/v1' },
      {
        name: 'gpu',
        baseURL: 'http://10.0.0.2:8000/v1',
        apiKey: 'sk-1',
        headers: { 'x-tenant': 'a' },
        flavor: 'mlx-openai-server',
        concurrency: 4,
        maxSockets: 16,
        timeoutMs: 30_000,
        healthTimeoutMs: 2000,
        models: ['qwen3-4b'],
      },
    ]);
    expect(
      readUpstreams([{ name: 'oa', baseURL: 'https://api.openai.com/v1', flavor: 'openai' }], 'c'),
    ).toEqual([{ name: 'oa', baseURL: 'https://api.openai.com/v1', flavor: 'openai' }]);
    expect(readUpstreams(undefined, 'c')).toEqual([]);
  });

  it.each([
    [{ lab: { baseURL: 'http://a/v1', maxSockets: 0 } }, /c: upstreams\.lab\.maxSockets: .*>0/],
    [{ lab: { baseURL: 'http://a/v1', concurrency: 1.5 } }, /upstreams\.lab\.concurrency: .*expected int/],
    [{ lab: { baseURL: 'http://a/v1', flavor: 'vllm' } }, /upstreams\.lab\.flavor: .*"openai"/],
    [{ lab: { baseURL: 'http://a/v1', maxSocket: 4 } }, /upstreams\.lab\.maxSocket: Unrecognized key/],
    [{ lab: { apiKey: 'x' } }, /upstreams\.lab\.baseURL: /],
    [{ lab: { baseURL: 'http://a/v1', headers: { a: 1 } } }, /upstreams\.lab\.headers\.a: /],
    [{ lab: 42 }, /upstreams\.lab: /],
    [[{ name: 'lab', baseURL: 'http://a/v1', timeoutMs: -1 }], /upstreams\[0\]\.timeoutMs: /],
    [{ lab: { baseURL: 'ftp://a/v1' } }, /upstream 'lab' must use http or https/],
    [{ 'la b': 'http://a/v1' }, /may only hold/],
    [
      [
        { name: 'lab', baseURL: 'http://a/v1' },
        { name: 'lab', baseURL: 'http://b/v1' },
      ],
      /used twice/,
    ],
  ])('refuses %j, naming the key', (value, message) => {
    expect(() => readUpstreams(value, 'c')).toThrow(ConfigError);
    expect(() => readUpstreams(value, 'c')).toThrow(message);
  });
});
