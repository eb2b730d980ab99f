/**
 * The HTTP half of the observability bench: each variant is a gateway process (`http-gateway.mjs`:
 * `serve()` + the OpenAI-compatible provider) in front of the gateway bench's mock upstream, and the
 * table shows the gateway process's CPU per request (process.cpuUsage over IPC) for sequential
 * keep-alive chats and 64-chunk streams. Variants run interleaved for `rounds` rounds; medians.
 */
import { Agent } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chatBody, startMock } from '../gateway/bench-targets.mjs';
import { httpOnce } from '../gateway/http-once.mjs';
import { forkServer, stopAll } from '../gateway/server-processes.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));

export async function measureHttpOverhead({ variants, rounds, chats, streams }) {
  const mock = await startMock();
  const upstream = `http://127.0.0.1:${mock.port}`;
  const gateways = {};
  for (const variant of variants) {
    gateways[variant] = await forkServer(`gateway ${variant}`, join(here, 'http-gateway.mjs'), [
      '--variant',
      variant,
      '--upstream',
      upstream,
    ]);
  }
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const run = async (gateway, body, count) => {
    const url = `http://127.0.0.1:${gateway.port}/v1/chat/completions`;
    const before = await gateway.cpuMicros();
    for (let index = 0; index < count; index++) {
      const result = await httpOnce({ url, body, agent, timeoutMs: 30_000 });
      if (result.status !== 200) throw new Error(`${gateway.name} answered ${result.status}`);
    }
    return ((await gateway.cpuMicros()) - before) / count;
  };
  const samples = { chat: {}, stream: {} };
  const kinds = [
    ['chat', chatBody('bench/bench-model', false), chats],
    ['stream', chatBody('bench/bench-model', true), streams],
  ];
  for (const [kind, body, count] of kinds) {
    for (const variant of variants) await run(gateways[variant], body, Math.ceil(count / 4)); // warm-up
    for (let round = 0; round < rounds; round++) {
      for (const variant of variants) {
        (samples[kind][variant] ??= []).push(await run(gateways[variant], body, count));
      }
    }
  }
  agent.destroy();
  await stopAll();
  return samples;
}
