/**
 * A real Redis for the state tests: the machine's (`FUSION_TEST_REDIS_URL`, else 127.0.0.1:6379)
 * when it answers, else a `redis-server` started for the run on a free port. Each caller gets its
 * own key prefix, so tests running at once (and earlier runs) never see each other's keys.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createConnection, createServer } from 'node:net';
import { createClient } from '@keyv/redis';

export interface TestRedis {
  url: string;
  /** A prefix no other test uses. @example 'test-3f2a…' */
  prefix: string;
  close(): Promise<void>;
}

function ping(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port || 6379) });
    socket.setTimeout(1000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('timeout', () => socket.destroy());
    socket.once('error', () => resolve(false));
    socket.once('close', () => resolve(false));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Deletes the keys a test left under its prefix in a Redis that outlives it. */
async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  for await (const keys of client.scanIterator({ MATCH: `${prefix}:*`, COUNT: 100 })) {
    if (keys.length > 0) await client.del(keys);
  }
  await client.quit();
}

export async function startTestRedis(): Promise<TestRedis> {
  const prefix = `test-${randomUUID().slice(0, 8)}`;
  const machine = process.env.FUSION_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (await ping(machine)) return { url: machine, prefix, close: () => deleteKeys(machine, prefix) };
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let tries = 0; !(await ping(url)); tries++) {
    if (tries > 50 || child.exitCode !== null) throw new Error(`redis-server did not start on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    prefix,
    close: async () => {
      child.kill('SIGKILL');
    },
  };
}
