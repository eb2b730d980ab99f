import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InFlightList } from '@fusionkit/core/internal';
import { DEFAULT_MAX_BODY_BYTES } from './body-too-large-error.js';
import { answerMalformedRequests } from './client-error.js';
import { createNodeHandler, type NodeHandlerOptions } from './create-node-handler.js';
import type { FusionLike } from './fusion-like.js';

/** Where the server listens, given to {@link ServeOptions.onListen}. */
export interface ListenInfo {
  /** Base URL to reach the server. @example 'http://127.0.0.1:8080' */
  url: string;
  port: number;
  host: string;
}

/** Options of {@link serve}. */
export interface ServeOptions extends NodeHandlerOptions {
  /** Port to listen on; 0 picks a free one. @default 8080 */
  port?: number;
  /** Interface to listen on; '0.0.0.0' or '::' for all. @default '127.0.0.1' */
  host?: string;
  /**
   * Shut down gracefully on SIGTERM and SIGINT, then exit: with code 0 when every request finished,
   * 1 when some were still running at `shutdownTimeoutMs` and were cut (a line on stderr says how
   * many), or on a second signal. @default true
   */
  signals?: boolean;
  /** How long in-flight requests and streams may take to finish on shutdown before they are cut. @default 10000 */
  shutdownTimeoutMs?: number;
  /**
   * Time a client has to send the request's headers, ms; a connection still sending them then is
   * answered 408 and closed (slowloris). Checked every few seconds, so a cut comes up to
   * `min(5000, headersTimeoutMs / 4)` ms late. Generous, so that a server too busy to read a new connection at once does not cut it. 0 disables it. @default 30000
   */
  headersTimeoutMs?: number;
  /**
   * Time a client has to send the whole request, body included, ms (slow uploads); the response,
   * however long it streams, is not counted. 0 disables it. @default 300000
   */
  requestTimeoutMs?: number;
  /**
   * How long an idle keep-alive connection stays open, ms. Longer than the 60 s idle timeout of
   * common load balancers, so they never reuse a connection the server has just closed. @default 65000
   */
  keepAliveTimeoutMs?: number;
  /**
   * How many new connections the kernel may hold for the server to accept (the listen backlog;
   * Linux caps it at `net.core.somaxconn`, 4096 by default). Node's default, 511, overflows when a
   * few thousand clients connect at once while the server is busy: the kernel then drops their
   * handshakes (a retry seconds later) or resets them (`ECONNRESET`). @default 4096
   */
  backlog?: number;
  /** Called once the server listens. */
  onListen?(info: ListenInfo): void;
}

/** How a graceful shutdown went. */
interface ShutdownSummary {
  /** Requests and streams still running at the deadline, cut. */
  cut: number;
}

/** A running server, returned by {@link serve}. */
export interface NodeServer {
  server: Server;
  url: string;
  port: number;
  /** Graceful shutdown; the same promise on every call. */
  close(): Promise<void>;
}

function displayHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** Resolves after `ms`, or at once when `ms` is not positive; its timer does not keep the process alive. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0) return resolve();
    setTimeout(resolve, ms).unref();
  });
}

/**
 * Starts a node:http server for `fusion` and resolves once it listens.
 *
 * Shutdown (`close()`, SIGTERM or SIGINT): answer with `Connection: close` from then on, let
 * `fusion.close()` drain in-flight requests and streams while new requests still get an answer
 * (`handle`'s 503 with `Retry-After`; `/health` 503), then stop listening, close connections as
 * they become idle, and cut whatever is left when `shutdownTimeoutMs` runs out.
 */
export async function serve(fusion: FusionLike, options: ServeOptions = {}): Promise<NodeServer> {
  const port = options.port ?? 8080;
  const host = options.host ?? '127.0.0.1';
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
  const maxBodyBytes = options.maxBodyBytes ?? fusion.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const handler = createNodeHandler(fusion, { ...options, maxBodyBytes });

  // Covers receiving the request only (Node drops the timer once the body is in): long response
  // streams are not cut by it, slow uploads are.
  const requestTimeout = options.requestTimeoutMs ?? 300_000;
  // Node refuses a headers timeout longer than the request's.
  const headersTimeout =
    requestTimeout > 0
      ? Math.min(options.headersTimeoutMs ?? 30_000, requestTimeout)
      : (options.headersTimeoutMs ?? 30_000);
  const checked = [headersTimeout, requestTimeout].filter((ms) => ms > 0);
  const server = createServer({
    // Node answers a Host-less HTTP/1.1 request with a bare 400; `toRequest` refuses it in the API's shape.
    requireHostHeader: false,
    headersTimeout,
    requestTimeout,
    // Node checks both timeouts on this interval (30 s by default, which let a slowloris live 82 s).
    connectionsCheckingInterval: Math.max(100, Math.min(5_000, ...checked.map((ms) => ms / 4))),
  });
  server.keepAliveTimeout = options.keepAliveTimeoutMs ?? 65_000;
  answerMalformedRequests(server, fusion, options.basePath);

  let closing: Promise<void> | undefined;
  // Not a Set: with one, V8 promoted ~2.3 KB per request to the old generation (see InFlightList).
  const inFlight = new InFlightList<ServerResponse>();

  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    if (closing) response.setHeader('connection', 'close');
    const listed = inFlight.add(response);
    response.once('close', () => {
      inFlight.remove(listed);
      // During shutdown, a connection whose response just ended is idle: close it now.
      if (closing) server.closeIdleConnections();
    });
    void handler(request, response);
  };
  server.on('request', onRequest);
  // `Expect: 100-continue`: refuse a body that is too large before the client sends it.
  server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    const declared = Number(request.headers['content-length']);
    if (!(declared > maxBodyBytes)) response.writeContinue();
    onRequest(request, response);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: options.backlog ?? 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://${displayHost(host)}:${actualPort}`;

  let removeSignalHandlers = () => {};
  const shutdown = async (): Promise<ShutdownSummary> => {
    const deadline = Date.now() + shutdownTimeoutMs;
    // Keeps listening while in-flight work drains: a request that arrives now (a load balancer that
    // has not yet seen `/health` turn 503) gets a quick 503 with `Retry-After` from `handle`, not a
    // refused connection, and `Connection: close` so its client goes elsewhere next time.
    for (const response of inFlight) {
      if (!response.headersSent) response.setHeader('connection', 'close');
    }
    server.closeIdleConnections();
    let failure: unknown;
    const draining = [...inFlight];
    // What is still running when the deadline passes is cut (`fusion.close` aborts it at that time).
    let cut = 0;
    const deadlineTimer = setTimeout(() => {
      cut = draining.filter((response) => !response.closed).length;
    }, shutdownTimeoutMs);
    // Makes `/health` 503 and drains in-flight work, aborting what is left at the deadline.
    const fusionClosed = Promise.resolve(fusion.close?.({ timeoutMs: shutdownTimeoutMs })).catch(
      (error: unknown) => {
        failure = error ?? new Error('fusion.close() failed.');
      },
    );
    // Drained when the orchestrator is and every response begun before the shutdown is written.
    await Promise.race([Promise.all([fusionClosed, drained(draining)]), delay(shutdownTimeoutMs)]);
    clearTimeout(deadlineTimer);
    // Now it stops listening, and closes connections as they become idle.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await Promise.race([closed, delay(deadline - Date.now())]);
    cut = Math.max(cut, inFlight.size);
    server.closeAllConnections();
    await closed;
    removeSignalHandlers();
    if (failure !== undefined) throw failure;
    return { cut };
  };
  /** Resolves once each of `responses` is written or cut. */
  const drained = (responses: readonly ServerResponse[]) =>
    Promise.all(
      responses.map(
        (response) =>
          new Promise<void>((resolve) => (response.closed ? resolve() : response.once('close', resolve))),
      ),
    );
  let summary: Promise<ShutdownSummary> | undefined;
  const close = () => {
    summary ??= shutdown();
    closing ??= summary.then(() => {});
    return closing;
  };

  if (options.signals ?? true) {
    let signalled = false;
    const onSignal = () => {
      if (signalled) process.exit(1);
      signalled = true;
      void close();
      summary!.then(
        ({ cut }) => {
          if (cut > 0) {
            console.error(`[fusion] shutdown: ${cut} request(s) still running at the deadline were cut.`);
          }
          process.exit(cut > 0 ? 1 : 0);
        },
        () => process.exit(1),
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    removeSignalHandlers = () => {
      // After a signal the process is about to exit; a second signal must still force it.
      if (signalled) return;
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    };
  }

  options.onListen?.({ url, port: actualPort, host });
  return { server, url, port: actualPort, close };
}
