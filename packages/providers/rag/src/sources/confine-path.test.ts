import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FusionError } from '@fusionkit/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confinePath } from './confine-path.js';

let base: string;
let root: string;
let outside: string;

beforeAll(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'rag-confine-')));
  root = join(base, 'root');
  outside = join(base, 'outside');
  await mkdir(join(root, 'sub'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(root, 'a.txt'), 'inside');
  await writeFile(join(root, 'sub', 'b.md'), '# inside');
  await writeFile(join(outside, 'secret.txt'), 'secret');
  await symlink(join(outside, 'secret.txt'), join(root, 'link-out.txt'));
  await symlink(join(root, 'a.txt'), join(root, 'link-in.txt'));
  await symlink(outside, join(root, 'dir-out'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

async function refusal(path: string, roots = [root]): Promise<FusionError> {
  const error = await confinePath(path, roots).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(FusionError.isInstance(error), `${path} was accepted`).toBe(true);
  return error as FusionError;
}

describe('confinePath', () => {
  it('resolves relative paths from the first root and absolute paths inside a root', async () => {
    expect(await confinePath('a.txt', [root])).toBe(join(root, 'a.txt'));
    expect(await confinePath('sub/b.md', [root])).toBe(join(root, 'sub', 'b.md'));
    expect(await confinePath(join(root, 'sub', 'b.md'), [root])).toBe(join(root, 'sub', 'b.md'));
    expect(await confinePath(join(outside, 'secret.txt'), [root, outside])).toBe(join(outside, 'secret.txt'));
  });

  it('follows symbolic links that stay inside the roots', async () => {
    expect(await confinePath('link-in.txt', [root])).toBe(join(root, 'a.txt'));
  });

  it.each([
    '../outside/secret.txt',
    'sub/../a.txt',
    '..',
    '..\\outside\\secret.txt',
    '%2e%2e/outside/secret.txt',
    '%2E%2E%2Foutside%2Fsecret.txt',
    '..%2foutside%2fsecret.txt',
    '%252e%252e%252foutside%252fsecret.txt',
    'sub/%2e%2e/%2e%2e/outside/secret.txt',
  ])('refuses the parent segment in %s with a 400', async (path) => {
    const error = await refusal(path);
    expect(error).toMatchObject({ status: 400, code: 'path_not_allowed', param: 'path' });
  });

  it('refuses absolute paths outside every root', async () => {
    expect((await refusal(join(outside, 'secret.txt'))).status).toBe(400);
    expect((await refusal('/etc/passwd')).status).toBe(400);
  });

  it('refuses a sibling folder whose name starts with the root name', async () => {
    const sibling = `${root}-secret`;
    await mkdir(sibling, { recursive: true });
    await writeFile(join(sibling, 'secret.txt'), 'secret');
    for (const path of [join(sibling, 'secret.txt'), sibling, `${root}-secret`]) {
      expect(await refusal(path)).toMatchObject({ status: 400, code: 'path_not_allowed' });
    }
  });

  it('refuses symbolic links that escape the roots, to files or through folders', async () => {
    expect((await refusal('link-out.txt')).message).toMatch(/links outside/);
    expect((await refusal('dir-out/secret.txt')).message).toMatch(/links outside/);
  });

  it('refuses NUL bytes, raw or encoded', async () => {
    expect((await refusal('a.txt\0.md')).status).toBe(400);
    expect((await refusal('a.txt%00.md')).status).toBe(400);
  });

  it('refuses every path when no root is configured, and empty paths', async () => {
    expect((await refusal('a.txt', [])).message).toMatch(/no root/);
    expect((await refusal('')).status).toBe(400);
  });

  it('answers 404 for a missing file inside a root', async () => {
    expect(await refusal('missing.txt')).toMatchObject({ status: 404, code: 'file_not_found' });
  });

  it('accepts a name with a literal percent sign', async () => {
    await writeFile(join(root, '100%.txt'), 'percent');
    expect(await confinePath('100%.txt', [root])).toBe(join(root, '100%.txt'));
  });
});
