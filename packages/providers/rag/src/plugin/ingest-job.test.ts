import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobRunner, type KeyvLike } from '@fusionkit/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRagFusion, type RagFusionFixture } from '../__fixtures__/rag-fusion.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Json = Record<string, unknown>;

/** A JSON store, as SQLite would keep it; `cut()` makes it deaf, as a killed process would be. */
function jsonStore(values = new Map<string, string>()) {
  let cut = false;
  const store: KeyvLike<unknown> & { delete(key: string): Promise<unknown> } = {
    async get(key) {
      const text = values.get(key);
      return text === undefined ? undefined : JSON.parse(text);
    },
    async set(key, value) {
      if (!cut) values.set(key, JSON.stringify(value));
    },
    async delete(key) {
      return !cut && values.delete(key);
    },
  };
  return { store, values, cut: () => (cut = true) };
}

/** Embeds with a hash; calls after the first `free` wait until `release()` or an abort. */
function gatedEmbed(free: number) {
  let calls = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const embed = async (texts: string[], options: { signal?: AbortSignal }) => {
    if (++calls > free) {
      await new Promise<void>((resolve, reject) => {
        gate.then(resolve);
        options.signal?.addEventListener('abort', () => reject(options.signal!.reason), { once: true });
      });
    }
    return texts.map((text) =>
      Array.from({ length: 8 }, (_, index) => ((text.charCodeAt(index) || 1) % 7) + 1),
    );
  };
  return { embed, release: () => release() };
}

async function start(options: Parameters<typeof createRagFusion>[0]): Promise<RagFusionFixture> {
  const rag = await createRagFusion(options);
  cleanups.push(() => rag.close());
  return rag;
}

describe('rag.ingest jobs with a store', () => {
  it('resume after a crash from the last commit, without duplicate chunks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rag-resume-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const first = jsonStore();
    // 17 batches of 64 go through: the commit at 1000 documents lands, then the embedder hangs.
    const gated = gatedEmbed(17);
    const jobs = new JobRunner({ store: first.store });
    const crashed = await createRagFusion({ dir, embed: gated.embed, jobs });
    await crashed.json('POST', '/api/rag/collections', { name: 'docs' });
    const documents = Array.from({ length: 1200 }, (_, index) => ({
      id: `d${index}`,
      text: `document ${index}`,
    }));
    const created = await crashed.json<Json>('POST', '/api/rag/ingest', {
      collection: 'docs',
      documents,
      async: true,
    });
    expect(created.status).toBe(202);
    const id = created.body.id as string;
    await vi.waitFor(async () =>
      expect((await crashed.json('GET', '/api/rag/collections/docs')).body).toMatchObject({
        documents: 1024,
      }),
    );
    await jobs.flush();
    // The process dies here: the store hears nothing more, and the collection keeps its last commit.
    first.cut();
    await jobs.close();
    await crashed.close();

    const resumed = await start({
      dir,
      embed: gatedEmbed(Number.POSITIVE_INFINITY).embed,
      jobs: new JobRunner({ store: jsonStore(first.values).store }),
    });
    await vi.waitFor(
      async () => {
        const job = (await resumed.json<Json>('GET', `/api/jobs/${id}`)).body;
        expect(job.error ?? job.status).toBe('succeeded');
      },
      { timeout: 20000 },
    );
    expect((await resumed.json('GET', `/api/jobs/${id}`)).body).toMatchObject({
      attempts: 2,
      result: { object: 'rag.ingest', documents: 1200, added: 176, unchanged: 1024 },
    });
    expect((await resumed.json('GET', '/api/rag/collections/docs')).body).toMatchObject({
      documents: 1200,
      chunks: 1200,
    });
  });

  it('is not a kind clients may create through POST /v1/jobs', async () => {
    const jobs = new JobRunner();
    await start({ jobs });
    expect(jobs.kinds).not.toContain('rag.ingest');
  });
});
