/**
 * Jobs bench: jobs per second created (written to the store before the answer, as `POST /v1/jobs`
 * does) and completed (each job saves one checkpoint, then its result), on the state stores of
 * `fusion serve`: memory (the baseline, measured in the same run), SQLite, Redis through a Keyv (one
 * process owns the jobs) and Redis shared through BullMQ (what `fusion serve` runs on Redis: every
 * instance takes jobs under a lease).
 *
 *   npm run bench:jobs                         # builds, then 2,000 jobs per store, 8 at a time
 *   node bench/jobs/run.mjs --jobs 5000 --concurrency 16
 *
 * Redis is the machine's (FUSION_TEST_REDIS_URL, else 127.0.0.1:6379), under a fresh key prefix
 * deleted afterwards; it is skipped when no Redis answers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openState, SharedJobRunner } from '@fusionkit/cli';
import { JobRunner } from '@fusionkit/core';
import { createClient } from '@keyv/redis';

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index !== -1 && process.argv[index + 1] !== undefined ? process.argv[index + 1] : fallback;
}

const jobCount = Number(option('jobs', '2000'));
const concurrency = Number(option('concurrency', '8'));
const redisURL = process.env.FUSION_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

async function redisAnswers() {
  const client = createClient({ url: redisURL, socket: { reconnectStrategy: false, connectTimeout: 1000 } });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    await client.quit();
    return true;
  } catch {
    return false;
  }
}

async function deleteKeys(prefix) {
  const client = createClient({ url: redisURL });
  await client.connect();
  for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 500 })) {
    if (keys.length > 0) await client.del(keys);
  }
  await client.quit();
}

async function measure(name, env) {
  const cwd = mkdtempSync(join(tmpdir(), 'bench-jobs-'));
  const state = await openState({ cwd, env });
  const jobs = new JobRunner({
    store: state.keyv('jobs', { strict: true }),
    concurrency,
    maxQueued: jobCount,
    maxFinished: jobCount,
  });
  jobs.define('bench.step', {
    async run(input, context) {
      await context.checkpoint({ half: input.n });
      return { n: input.n };
    },
  });
  await jobs.restore();
  const ids = [];
  const started = performance.now();
  for (let n = 0; n < jobCount; n++) {
    ids.push(jobs.create({ kind: 'bench.step', input: { n } }).id);
    // A create answers once its job is in the store.
    await jobs.flush();
  }
  const created = performance.now();
  await Promise.all(ids.map((id) => jobs.wait(id)));
  await jobs.flush();
  const completed = performance.now();
  const succeeded = jobs.list().filter((job) => job.status === 'succeeded').length;
  await jobs.close();
  await state.close();
  rmSync(cwd, { recursive: true, force: true });
  return {
    name,
    description: state.description,
    createdPerSecond: jobCount / ((created - started) / 1000),
    completedPerSecond: jobCount / ((completed - started) / 1000),
    succeeded,
  };
}

/** The runner `fusion serve` uses on Redis: each job a BullMQ job under a lease, records in Redis. */
async function measureShared(name, prefix) {
  const jobs = new SharedJobRunner({ url: redisURL, prefix, concurrency });
  jobs.define('bench.step', {
    async run(input, context) {
      await context.checkpoint({ half: input.n });
      return { n: input.n };
    },
  });
  await jobs.restore();
  const ids = [];
  const started = performance.now();
  // A create answers once its job is in Redis and queued.
  for (let n = 0; n < jobCount; n++) ids.push((await jobs.create({ kind: 'bench.step', input: { n } })).id);
  const created = performance.now();
  let succeeded = 0;
  for (const id of ids) {
    for (;;) {
      const job = await jobs.get(id);
      if (job && ['succeeded', 'failed', 'cancelled'].includes(job.status)) {
        if (job.status === 'succeeded') succeeded++;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
  const completed = performance.now();
  await jobs.close();
  return {
    name,
    description: `redis ${prefix}`,
    createdPerSecond: jobCount / ((created - started) / 1000),
    completedPerSecond: jobCount / ((completed - started) / 1000),
    succeeded,
  };
}

const results = [await measure('memory', { FUSION_STATE: 'memory' }), await measure('sqlite', {})];
if (await redisAnswers()) {
  const prefix = `bench-${Date.now()}`;
  try {
    results.push(await measure('redis (keyv)', { FUSION_REDIS_URL: redisURL, FUSION_REDIS_PREFIX: prefix }));
    results.push(await measureShared('redis (shared, BullMQ)', prefix));
  } finally {
    await deleteKeys(prefix);
  }
} else {
  console.log(`(no Redis answers at ${redisURL}: skipped)`);
}

const [baseline] = results;
console.log(`\n${jobCount} jobs, ${concurrency} at a time, one checkpoint each (node ${process.version})\n`);
console.log('| store | created/s | completed/s | created vs memory | completed vs memory | succeeded |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const result of results) {
  console.log(
    `| ${result.name} | ${result.createdPerSecond.toFixed(0)} | ${result.completedPerSecond.toFixed(0)} | ${(result.createdPerSecond / baseline.createdPerSecond).toFixed(2)} | ${(result.completedPerSecond / baseline.completedPerSecond).toFixed(2)} | ${result.succeeded}/${jobCount} |`,
  );
}
