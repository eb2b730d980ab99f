/**
 * A new user's first commands in a checkout: `npx fusion --help` (the committed bin, before and
 * after a build), per-command help, and `npm start` building only what changed, quietly.
 */
import { execFile, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SHIM = join(ROOT, 'packages/cli/bin/fusion.js');

const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('FUSION_')));

describe('the fusion bin', () => {
  it('is a committed file, so that npm links it at `npm ci`, before any build', async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, 'packages/cli/package.json'), 'utf8')) as {
      bin: Record<string, string>;
      files: string[];
    };
    expect(manifest.bin).toEqual({ fusion: './bin/fusion.js' });
    expect(manifest.files).toContain('bin');
    const { stdout } = await run('git', ['ls-files', 'packages/cli/bin/fusion.js'], { cwd: ROOT });
    expect(stdout.trim()).toBe('packages/cli/bin/fusion.js');
    const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { bin?: Record<string, string> }>;
    };
    expect(lock.packages['packages/cli']?.bin).toEqual({ fusion: 'bin/fusion.js' });
  });

  it('`fusion --help` prints the usage on stdout, and nothing else there', async () => {
    const { stdout } = await run(process.execPath, [SHIM, '--help'], { cwd: ROOT, env });
    expect(stdout).toMatch(/^fusion: several models behind one OpenAI-compatible API\n\nUsage:/);
    expect(stdout).toContain('`fusion <command> --help` says more about a command.');
  });

  it('`fusion serve --help` prints the help of serve, not the global one', async () => {
    const { stdout } = await run(process.execPath, [SHIM, 'serve', '--help'], { cwd: ROOT, env });
    expect(stdout).toMatch(/^fusion serve \[--config FILE\]\n/);
    expect(stdout).toContain('FUSION_MLX_MODELS');
    expect(stdout).toContain('exits with code 2');
    expect(stdout).not.toContain('Usage:');
    const query = await run(process.execPath, [SHIM, 'query', '--help'], { cwd: ROOT, env });
    expect(query.stdout).toMatch(/^fusion query "question" --collection NAME/);
  });
});

describe('scripts/build-if-changed.mjs', () => {
  let root: string;
  const build = () => run(process.execPath, [join(root, 'scripts/build-if-changed.mjs')], { cwd: root, env });

  beforeAll(async () => {
    // A repository of one package whose build is noisy and counts its runs.
    root = await mkdtemp(join(tmpdir(), 'fusion-build-'));
    await mkdir(join(root, 'scripts'));
    await cp(join(ROOT, 'scripts/build-if-changed.mjs'), join(root, 'scripts/build-if-changed.mjs'));
    await writeFile(join(root, 'tsconfig.base.json'), '{}');
    await writeFile(
      join(root, 'package.json'),
      JSON.stringify({ private: true, workspaces: ['packages/a'] }),
    );
    await mkdir(join(root, 'packages/a/src'), { recursive: true });
    await writeFile(
      join(root, 'packages/a/build.cjs'),
      `const fs = require('node:fs');
fs.rmSync('dist', { recursive: true, force: true });
fs.mkdirSync('dist');
fs.appendFileSync('../../builds.log', 'a\\n');
for (let i = 0; i < 50; i++) console.log('ESM dist/index.js ' + i);`,
    );
    await writeFile(
      join(root, 'packages/a/package.json'),
      JSON.stringify({ name: 'a', scripts: { build: 'node build.cjs' } }),
    );
    await writeFile(join(root, 'packages/a/src/index.ts'), 'export const a = 1;\n');
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const builds = async () =>
    (await readFile(join(root, 'builds.log'), 'utf8').catch(() => '')).split('\n').filter(Boolean).length;

  it('builds once, in one line, then not again until a source changes (tests do not count)', async () => {
    const first = await build();
    expect(first.stdout).toBe('');
    expect(first.stderr).toBe('building a (sources changed)…\n');
    expect(await builds()).toBe(1);

    const second = await build();
    expect(second.stdout + second.stderr).toBe('');
    expect(await builds()).toBe(1);

    await writeFile(join(root, 'packages/a/src/index.test.ts'), 'it("x", () => {});\n');
    await build();
    expect(await builds()).toBe(1);

    await writeFile(join(root, 'packages/a/src/index.ts'), 'export const a = 2;\n');
    expect((await build()).stderr).toBe('building a (sources changed)…\n');
    expect(await builds()).toBe(2);
  });

  it('prints the build output, and fails, when the build fails', async () => {
    await writeFile(
      join(root, 'packages/a/build.cjs'),
      "console.log('ERROR: src/index.ts:1:1'); process.exit(3);",
    );
    await writeFile(join(root, 'packages/a/src/index.ts'), 'export const a = 3;\n');
    const failed = await build().then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(3);
    expect(failed?.stderr).toContain('ERROR: src/index.ts:1:1');
    expect(failed?.stderr).toContain('building a failed.');
  });
});

describe('npm start', () => {
  beforeAll(async () => {
    // Whatever ran before (`npm test` builds first), the packages are now built from these sources.
    await run(process.execPath, [join(ROOT, 'scripts/build-if-changed.mjs')], { cwd: ROOT, env });
  }, 180_000);

  it('with no source changed since the last build, reaches "listening" without building', async () => {
    const child = spawn('npm', ['start'], {
      cwd: ROOT,
      env: { ...env, FUSION_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout!.on('data', (data: Buffer) => (output += data.toString()));
    child.stderr!.on('data', (data: Buffer) => (output += data.toString()));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "listening" within 20 s:\n${output}`)), 20_000);
        const check = () => {
          if (output.includes('fusion listening on')) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout!.on('data', check);
        child.stderr!.on('data', check);
        child.once('exit', () => {
          clearTimeout(timer);
          reject(new Error(`npm start ended:\n${output}`));
        });
      });
      expect(output).not.toContain('building');
      expect(output).not.toContain('Build success');
    } finally {
      // npm start runs node in a shell: stop the whole group.
      process.kill(-child.pid!, 'SIGKILL');
    }
  }, 30_000);
});
