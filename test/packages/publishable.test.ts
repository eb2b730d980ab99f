/**
 * What `npm publish` would ship of each package, from `npm pack --dry-run`: no test or fixture, the
 * license and README, and the metadata a registry page shows.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const { workspaces } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
  workspaces: string[];
};
const PACKAGES = workspaces.filter((workspace) => workspace.startsWith('packages/'));

interface Manifest {
  name: string;
  license?: string;
  files: string[];
  keywords?: string[];
  homepage?: string;
  repository?: { type: string; url: string; directory: string };
}

/** The paths `npm pack` would put in the tarball. */
async function packed(dir: string): Promise<string[]> {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: join(ROOT, dir),
    maxBuffer: 64 * 1024 * 1024,
  });
  const [result] = JSON.parse(stdout) as { files: { path: string }[] }[];
  return result!.files.map((file) => file.path);
}

describe.each(PACKAGES)('npm pack of %s', (dir) => {
  it('ships no test file and no fixture', async () => {
    const files = await packed(dir);
    expect(files.length).toBeGreaterThan(3);
    expect(files.filter((path) => /\.test(-d)?\.tsx?$|(^|\/)__fixtures__\//.test(path))).toEqual([]);
  });

  it('ships the README and LICENSE its files list names, and says where it comes from', async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, dir, 'package.json'), 'utf8')) as Manifest;
    const files = await packed(dir);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE']));
    for (const entry of manifest.files.filter((entry) => !entry.startsWith('!') && !entry.includes('*')))
      expect(
        files.some((path) => path === entry || path.startsWith(`${entry}/`)),
        `${entry} is packed`,
      ).toBe(true);
    expect(await readFile(join(ROOT, dir, 'LICENSE'), 'utf8')).toBe(
      await readFile(join(ROOT, 'LICENSE'), 'utf8'),
    );
    expect(manifest.license).toBe('MIT');
    expect(manifest.keywords?.length).toBeGreaterThan(1);
    expect(manifest.homepage).toMatch(/^https:\/\//);
    expect(manifest.repository).toMatchObject({ type: 'git', directory: dir });
  });
});
