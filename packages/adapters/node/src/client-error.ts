import { type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FusionLike } from './fusion-like.js';
import { type AdapterError, writeError } from './write-error.js';

/** What Node says a malformed request was, and how it answers it, with a code of the API's. */
function adapterErrorOf(code: string | undefined): AdapterError {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        code: 'request_header_fields_too_large',
        message: 'The request headers are too large.',
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADER_TIMEOUT':
      return { status: 408, code: 'request_timeout', message: 'The request did not arrive in time.' };
    default:
      return {
        status: 400,
        code: 'invalid_request',
        message: `The request is not valid HTTP (${code ?? 'parse error'}).`,
      };
  }
}

/**
 * Node answers requests its parser refuses (a path that is not one, a bad chunk, a negative
 * `Content-Length`, headers too large) and unknown `Expect` values itself, with a status and no body,
 * and closes `CONNECT` requests without a word.
 * These handlers give those answers the API's error body, in the shape of the route the request line
 * names when it can be read (Anthropic's on `/v1/messages`).
 */
export function answerMalformedRequests(server: Server, fusion: FusionLike, basePath = ''): void {
  /** Writes an error answer straight on the socket (there is no `ServerResponse`), then closes it. */
  const writeRaw = (socket: Duplex, answer: AdapterError, path: string | undefined) => {
    const type = answer.status >= 500 ? 'server_error' : 'invalid_request_error';
    const body = JSON.stringify(
      (path !== undefined ? fusion.errorBody?.(`${basePath}${path}`, { ...answer, type }) : undefined) ?? {
        error: { message: answer.message, type, code: answer.code, param: null },
      },
    );
    socket.end(
      `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\nconnection: close\r\n` +
        `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      () => socket.destroy(),
    );
  };
  server.on('clientError', (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
    // As Node does: no answer to a client that went away, nor over a response already begun.
    const current = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    if (current?.headersSent) {
      // An answer given before the body was read (a refused Host, say) is whole: let it out first.
      if (current.writableEnded) socket.end(() => socket.destroy());
      else socket.destroy();
      return;
    }
    const path = /^[A-Za-z]+ (\/\S*) /.exec(error.rawPacket?.toString('latin1') ?? '')?.[1];
    writeRaw(socket, adapterErrorOf(error.code), path);
  });
  // `CONNECT` (proxy tunnels) is not a method of this API; without a listener Node closes in silence.
  server.on('connect', (request: IncomingMessage, socket: Duplex) => {
    const path = request.url?.startsWith('/') ? request.url : undefined;
    writeRaw(
      socket,
      { status: 405, code: 'method_not_allowed', message: 'CONNECT is not allowed here.' },
      path,
    );
  });
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    writeError(
      request,
      response,
      {
        status: 417,
        code: 'expectation_failed',
        message: `Expect: ${request.headers.expect} is not supported; only 100-continue is.`,
      },
      true,
      fusion.errorBody ? (error) => fusion.errorBody!(`${basePath}${request.url ?? '/'}`, error) : undefined,
    );
  });
}
