import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { discoverModelLocations, huggingFaceHubDir } from './discover-models.js';

const root = mkdtempSync(join(tmpdir(), 'fusion-mlx-discovery-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function modelDir(path: string) {
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'config.json'), '{}');
}

describe('discoverModelLocations', () => {
  it('finds model directories in folders and mlx-community snapshots in the Hugging Face cache', () => {
    const folder = join(root, 'models');
    modelDir(join(folder, 'my-model'));
    mkdirSync(join(folder, 'not-a-model'));
    modelDir(join(folder, '.hidden'));
    const hub = join(root, 'hf', 'hub');
    const repo = join(hub, 'models--mlx-community--Qwen3-0.6B-4bit');
    modelDir(join(repo, 'snapshots', 'old'));
    modelDir(join(repo, 'snapshots', 'abc123'));
    mkdirSync(join(repo, 'refs'), { recursive: true });
    writeFileSync(join(repo, 'refs', 'main'), 'abc123\n');
    modelDir(join(hub, 'models--someone--other', 'snapshots', 'x'));
    // Snapshot files are symlinks into blobs/ in the real cache.
    mkdirSync(join(repo, 'blobs'));
    writeFileSync(join(repo, 'blobs', 'deadbeef'), '{}');
    symlinkSync(join(repo, 'blobs', 'deadbeef'), join(repo, 'snapshots', 'abc123', 'tokenizer.json'));

    const found = discoverModelLocations({
      modelsDir: folder,
      huggingFaceCache: true,
      models: { pinned: join(folder, 'my-model') },
      env: { HF_HOME: join(root, 'hf') },
    });
    expect(found).toEqual([
      { id: 'pinned', path: join(folder, 'my-model'), source: 'configured' },
      { id: 'my-model', path: join(folder, 'my-model'), source: 'folder' },
      { id: 'Qwen3-0.6B-4bit', path: join(repo, 'snapshots', 'abc123'), source: 'huggingface' },
    ]);
    expect(discoverModelLocations({ modelsDir: join(root, 'missing'), huggingFaceCache: false })).toEqual([]);
  });

  it('locates the hub like huggingface_hub: HF_HUB_CACHE, then HF_HOME/hub, then ~/.cache', () => {
    expect(huggingFaceHubDir({ HF_HUB_CACHE: '/a', HF_HOME: '/b' })).toBe('/a');
    expect(huggingFaceHubDir({ HF_HOME: '/b' })).toBe('/b/hub');
    expect(huggingFaceHubDir({ XDG_CACHE_HOME: '/c' })).toBe('/c/huggingface/hub');
  });
});
