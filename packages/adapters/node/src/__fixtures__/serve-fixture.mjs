// Child process for the graceful-shutdown test: serves a fake orchestrator with the built adapter.
// GET /stream sends `count` SSE events, one every `interval` ms; once closing, requests get 503.
// Prints its URL as one JSON line.
import { serve } from '../../dist/index.js';

const encoder = new TextEncoder();
const count = Number(process.env.EVENT_COUNT ?? 10);
const interval = Number(process.env.EVENT_INTERVAL_MS ?? 50);
let closeOptions;

const fusion = {
  async handle(request) {
    // Like the orchestrator: once closing, new requests get a 503.
    if (closeOptions) return new Response('closing', { status: 503, headers: { 'retry-after': '1' } });
    if (new URL(request.url).pathname !== '/stream') return new Response('ok');
    let sent = 0;
    const body = new ReadableStream({
      async pull(controller) {
        if (sent > 0) await new Promise((resolve) => setTimeout(resolve, interval));
        sent += 1;
        controller.enqueue(encoder.encode(`data: ${sent}\n\n`));
        if (sent === count) {
          controller.enqueue(encoder.encode('data: [DONE]\n\n'));
          controller.close();
        }
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
  },
  async close(options) {
    closeOptions = options;
  },
};

process.on('exit', (code) => {
  process.stdout.write(`${JSON.stringify({ exit: code, closeOptions })}\n`);
});

await serve(fusion, {
  port: 0,
  shutdownTimeoutMs: Number(process.env.SHUTDOWN_TIMEOUT_MS ?? 5000),
  onListen: ({ url }) => process.stdout.write(`${JSON.stringify({ url })}\n`),
});
