/**
 * The three targets, each server in its own process, all in front of one mock upstream:
 *
 * - A `mock upstream (direct)`: the mock alone; CPU from `process.cpuUsage()` over IPC.
 * - B `minimal proxy`: `minimal-proxy.mjs` → mock; CPU of the proxy process alone (IPC).
 * - C `fusion serve`: `node packages/cli/dist/bin.js serve` (or `--gateway-bin`) with
 *   `FUSION_UPSTREAMS=bench=<mock>/v1`, `FUSION_PORT`, `FUSION_HOST=127.0.0.1`; requests use model
 *   `bench/bench-model`; CPU of the gateway's process tree from `/proc`. Skipped, with the reason,
 *   when the CLI is not built or does not come up.
 *
 * Before a target is measured, `smokeCheck` proves it answers a chat and a full stream.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpOnce, waitForHttp } from './http-once.mjs';
import { STREAM_CHUNK_COUNT } from './mock-completions.mjs';
import { forkServer, killNow, procCpuMicros, spawnServer } from './server-processes.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));

/** The request every scenario sends: model + system and user messages, as a chat client would. */
export function chatBody(model, stream) {
  return JSON.stringify({
    model,
    messages: [
      { role: 'system', content: 'You are a concise assistant. Answer in plain prose.' },
      { role: 'user', content: 'In one paragraph, what does a reverse proxy do?' },
    ],
    temperature: 0.2,
    max_tokens: 256,
    ...(stream ? { stream: true } : {}),
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export function startMock() {
  return forkServer('mock upstream', join(here, 'mock-upstream.mjs'));
}

/** Chat requests the mock has answered so far: what actually reached the upstream. */
function upstreamRequestCounter(mock) {
  return async () => (await mock.sample()).counters.chatRequests;
}

export function directTarget(mock) {
  return {
    key: 'A',
    shortName: 'direct',
    name: 'mock upstream alone (direct)',
    url: `http://127.0.0.1:${mock.port}/v1/chat/completions`,
    model: 'bench-model',
    pid: mock.pid,
    cpuSource: 'process.cpuUsage() over IPC',
    cpuMicros: mock.cpuMicros,
    procCpuMicros: () => procCpuMicros(mock.pid),
    upstreamRequests: upstreamRequestCounter(mock),
  };
}

export async function startProxyTarget(mock) {
  const upstream = `http://127.0.0.1:${mock.port}`;
  const proxy = await forkServer('minimal proxy', join(here, 'minimal-proxy.mjs'), ['--upstream', upstream]);
  return {
    key: 'B',
    shortName: 'min proxy',
    name: 'minimal node:http proxy (keep-alive Agent, piped)',
    url: `http://127.0.0.1:${proxy.port}/v1/chat/completions`,
    model: 'bench-model',
    pid: proxy.pid,
    cpuSource: 'process.cpuUsage() over IPC (proxy process only)',
    cpuMicros: proxy.cpuMicros,
    procCpuMicros: () => procCpuMicros(proxy.pid),
    upstreamCpuMicros: mock.cpuMicros,
    upstreamRequests: upstreamRequestCounter(mock),
    handle: proxy.handle,
  };
}

/**
 * Starts `fusion serve` and waits for GET /health to answer.
 * @returns {Promise<object>} the target, or `{ skipped: reason, failed: boolean }`
 */
export async function startGatewayTarget(
  mock,
  { repoRoot, gatewayBin, gatewayNodeFlags, startupTimeoutSeconds, variant },
) {
  const bin = resolve(repoRoot, gatewayBin);
  if (!existsSync(bin)) {
    return { skipped: `${gatewayBin} not found (build the CLI: npm run build)`, failed: false };
  }
  const port = await freePort();
  const env = {
    ...process.env,
    FUSION_UPSTREAMS: `bench=http://127.0.0.1:${mock.port}/v1`,
    FUSION_PORT: String(port),
    FUSION_HOST: '127.0.0.1',
    ...variant?.env,
  };
  const nodeFlags = gatewayNodeFlags ? gatewayNodeFlags.split(/\s+/).filter(Boolean) : [];
  const gateway = spawnServer(
    variant ? `fusion serve, ${variant.shortName}` : 'fusion serve',
    bin,
    ['serve'],
    env,
    nodeFlags,
  );
  try {
    await waitForHttp(`http://127.0.0.1:${port}/health`, {
      timeoutMs: startupTimeoutSeconds * 1000,
      isGone: () => gateway.handle.exited,
    });
  } catch (error) {
    killNow(gateway.handle);
    return {
      skipped: `fusion serve did not come up: ${error.message}\n${gateway.handle.output}`,
      failed: true,
    };
  }
  return {
    key: variant?.key ?? 'C',
    shortName: variant ? `serve, ${variant.shortName}` : 'fusion serve',
    name: `fusion serve (${[...nodeFlags, gatewayBin].join(' ')})${variant ? `, ${variant.shortName}` : ''}`,
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    model: 'bench/bench-model',
    pid: gateway.pid,
    cpuSource: '/proc/<pid>/stat utime+stime of the gateway process tree',
    cpuMicros: gateway.cpuMicros,
    procCpuMicros: () => procCpuMicros(gateway.pid),
    upstreamCpuMicros: mock.cpuMicros,
    upstreamRequests: upstreamRequestCounter(mock),
    handle: gateway.handle,
  };
}

/**
 * One chat and one stream through the target: a chat completion with content, and a stream that
 * ends in `[DONE]`. Throws with what came back otherwise.
 * @returns {Promise<{ chatBytes: number, streamChunks: number, streamBytes: number }>}
 */
export async function smokeCheck(target) {
  const chat = await httpOnce({
    url: target.url,
    body: chatBody(target.model, false),
    agent: false,
    keepBody: true,
  });
  let content;
  try {
    content = JSON.parse(chat.body).choices[0].message.content;
  } catch {
    content = undefined;
  }
  if (chat.status !== 200 || typeof content !== 'string') {
    throw new Error(`${target.name}: chat answered ${chat.status}: ${chat.body.slice(0, 500)}`);
  }
  const stream = await httpOnce({
    url: target.url,
    body: chatBody(target.model, true),
    agent: false,
    keepBody: true,
  });
  const events = stream.body
    .split(/\r?\n\r?\n/)
    .map((event) => event.trim())
    .filter((event) => event.startsWith('data:'));
  if (stream.status !== 200 || !/^data: ?\[DONE\]$/.test(events.at(-1) ?? '')) {
    throw new Error(`${target.name}: stream answered ${stream.status}: ${stream.body.slice(0, 500)}`);
  }
  const streamChunks = events.length - 1;
  if (streamChunks !== STREAM_CHUNK_COUNT) {
    console.warn(`  note: ${target.name} relayed ${streamChunks} chunks of the mock's ${STREAM_CHUNK_COUNT}`);
  }
  return { chatBytes: chat.bytes, streamChunks, streamBytes: stream.bytes };
}
