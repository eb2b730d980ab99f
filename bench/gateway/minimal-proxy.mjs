/**
 * The floor any gateway pays (target B): a `node:http` forwarding proxy with a keep-alive
 * `http.Agent` (maxSockets 128, or `--max-sockets`; `Infinity` for none) that pipes the request to
 * the upstream and the response back, without parsing or buffering either body.
 *
 * Run by hand: `node bench/gateway/minimal-proxy.mjs --upstream http://127.0.0.1:8000 --port 8001`.
 * Under `fork`, it reports its port and CPU over IPC (see `child-ipc.mjs`).
 */
import { Agent, createServer, request as httpRequest } from 'node:http';
import { argument, reportToParent } from './child-ipc.mjs';

const upstream = new URL(argument('upstream', 'PROXY_UPSTREAM', 'http://127.0.0.1:8000'));
const agent = new Agent({
  keepAlive: true,
  maxSockets: Number(argument('max-sockets', 'PROXY_MAX_SOCKETS', '128')),
});

// Per-connection headers describe this hop only (RFC 9110 §7.6.1); Node sets its own.
function withoutHopHeaders(headers) {
  const copy = { ...headers };
  delete copy.connection;
  delete copy['keep-alive'];
  return copy;
}

const server = createServer((request, response) => {
  const upstreamRequest = httpRequest(
    {
      agent,
      host: upstream.hostname,
      port: upstream.port,
      method: request.method,
      path: request.url,
      headers: withoutHopHeaders(request.headers),
    },
    (upstreamResponse) => {
      response.writeHead(upstreamResponse.statusCode ?? 502, withoutHopHeaders(upstreamResponse.headers));
      upstreamResponse.pipe(response);
    },
  );
  upstreamRequest.on('error', () => {
    if (!response.headersSent) response.writeHead(502, { 'content-type': 'application/json' });
    response.end('{"error":{"message":"upstream unavailable","type":"upstream_error"}}');
  });
  // The client went away: stop the upstream work too.
  response.on('close', () => {
    if (!response.writableFinished) upstreamRequest.destroy();
  });
  request.pipe(upstreamRequest);
});

server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;
server.listen(Number(argument('port', 'PROXY_PORT', '0')), '127.0.0.1', () =>
  reportToParent(server, 'minimal proxy'),
);
