import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { resolveConfig } from './resolve-config.js';

describe('resolveConfig', () => {
  let cwd: string;
  beforeEach(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'fusion-config-'));
  });
  afterEach(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  it('defaults to 127.0.0.1:8080 with no upstream', async () => {
    expect(await resolveConfig({ cwd, env: {} })).toEqual({ host: '127.0.0.1', port: 8080, upstreams: [] });
  });

  it('reads FUSION_HOST, FUSION_PORT and FUSION_UPSTREAMS', async () => {
    const config = await resolveConfig({
      cwd,
      env: { FUSION_HOST: '0.0.0.0', FUSION_PORT: '9000', FUSION_UPSTREAMS: 'lab=http://127.0.0.1:8000/v1' },
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      upstreams: [{ name: 'lab', baseURL: 'http://127.0.0.1:8000/v1' }],
    });
  });

  it('adds FUSION_ALLOWED_HOSTS and FUSION_ALLOWED_ORIGINS to the config’s security', async () => {
    await writeFile(
      join(cwd, 'fusion.config.json'),
      JSON.stringify({ security: { allowedHosts: ['fusion.lan'], allowedOrigins: ['https://a.example'] } }),
    );
    const config = await resolveConfig({
      cwd,
      env: {
        FUSION_ALLOWED_HOSTS: 'box.local, .example.com',
        FUSION_ALLOWED_ORIGINS: 'http://localhost:5173',
      },
    });
    expect(config.security).toEqual({
      allowedHosts: ['fusion.lan', 'box.local', '.example.com'],
      allowedOrigins: ['https://a.example', 'http://localhost:5173'],
    });
  });

  it('refuses a port that is not a number', async () => {
    await expect(resolveConfig({ cwd, env: { FUSION_PORT: 'eighty' } })).rejects.toThrow(ConfigError);
    await expect(resolveConfig({ cwd, env: { FUSION_PORT: '70000' } })).rejects.toThrow(
      'FUSION_PORT: got "70000", expected a port number from 0 to 65535',
    );
  });

  it('loads fusion.config.ts (TypeScript, through jiti) and lets the environment override it', async () => {
    await writeFile(
      join(cwd, 'fusion.config.ts'),
      `const port: number = 7000;
export default { port, host: '127.0.0.2', upstreams: { lab: 'http://127.0.0.1:8000/v1', gpu: 'http://127.0.0.1:9000/v1' }, aliases: { fast: 'lab/x' } };`,
    );
    const config = await resolveConfig({
      cwd,
      env: { FUSION_PORT: '7001', FUSION_UPSTREAMS: 'gpu=http://127.0.0.1:9999/v1' },
    });
    expect(config.port).toBe(7001);
    expect(config.host).toBe('127.0.0.2');
    expect(config.aliases).toEqual({ fast: 'lab/x' });
    expect(config.upstreams).toEqual([
      { name: 'lab', baseURL: 'http://127.0.0.1:8000/v1' },
      { name: 'gpu', baseURL: 'http://127.0.0.1:9999/v1' },
    ]);
    expect(config.file).toBe(join(cwd, 'fusion.config.ts'));
  });

  it('loads fusion.config.json and an explicit --config path', async () => {
    await writeFile(join(cwd, 'fusion.config.json'), JSON.stringify({ port: 7100 }));
    expect((await resolveConfig({ cwd, env: {} })).port).toBe(7100);
    await writeFile(join(cwd, 'other.mjs'), 'export default async () => ({ port: 7200 });');
    expect((await resolveConfig({ cwd, env: {}, configPath: 'other.mjs' })).port).toBe(7200);
  });

  it('says which file is broken', async () => {
    await writeFile(join(cwd, 'fusion.config.json'), '{ nope');
    await expect(resolveConfig({ cwd, env: {} })).rejects.toThrow(/Could not load .*fusion\.config\.json/);
    await expect(resolveConfig({ cwd, env: {}, configPath: 'missing.ts' })).rejects.toThrow(/not found/);
  });
});
