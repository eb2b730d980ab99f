/**
 * The load side of the scale bench, in its own process so that it never shares a CPU budget
 * decision with the server it measures. On `{ type: 'burst', url, count, body, timeoutMs }` it
 * opens `count` streaming chat requests at once over a keep-alive `http.Agent` without a socket
 * cap, reads each to its end, and answers `{ type: 'burst-done', wallMs, ok, errors, ... }`.
 * It says `{ type: 'all-open' }` once every stream has sent its first body byte, so the parent can
 * sample memory while all of them are open.
 */
import { Agent, request as httpRequest } from 'node:http';

function burst({ url, count, body, timeoutMs }) {
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const target = new URL(url);
  const payload = Buffer.from(body);
  const statuses = {};
  const errorMessages = {};
  let ok = 0;
  let errors = 0;
  let opened = 0;
  let finished = 0;
  let bytes = 0;
  let lastFirstByteMs = 0;
  const startedAt = performance.now();
  return new Promise((resolve) => {
    const done = () => {
      if (++finished < count) return;
      clearTimeout(watchdog);
      agent.destroy();
      resolve({
        wallMs: performance.now() - startedAt,
        ok,
        errors,
        statuses,
        errorMessages,
        bytes,
        lastFirstByteMs,
      });
    };
    const fail = (message) => {
      errors++;
      errorMessages[message] = (errorMessages[message] ?? 0) + 1;
    };
    const watchdog = setTimeout(() => agent.destroy(new Error('burst timed out')), timeoutMs);
    for (let index = 0; index < count; index++) {
      let settled = false;
      const settle = (error) => {
        if (settled) return;
        settled = true;
        if (error) fail(error);
        done();
      };
      const request = httpRequest(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: `${target.pathname.replace(/\/$/, '')}/chat/completions`,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': payload.length },
        },
        (response) => {
          statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
          let first = true;
          let tail = '';
          response.on('data', (chunk) => {
            bytes += chunk.length;
            tail = (tail + chunk.toString('latin1')).slice(-32);
            if (first) {
              first = false;
              lastFirstByteMs = performance.now() - startedAt;
              if (++opened === count) process.send?.({ type: 'all-open' });
            }
          });
          response.on('end', () => {
            const complete = response.statusCode === 200 && tail.includes('[DONE]');
            if (complete) ok++;
            settle(complete ? undefined : `status ${response.statusCode}, no [DONE]`);
          });
          response.on('error', (error) => settle(error.message));
        },
      );
      request.on('error', (error) => settle(error.code ?? error.message));
      request.end(payload);
    }
  });
}

process.on('message', async (message) => {
  if (message?.type !== 'burst') return;
  const result = await burst(message);
  process.send?.({ type: 'burst-done', ...result });
});
process.on('disconnect', () => process.exit(0));
process.send?.({ type: 'ready' });
