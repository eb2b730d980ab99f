import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeFusion } from './__fixtures__/start-server.js';
import { type NodeServer, serve } from './serve.js';

let running: NodeServer | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** Writes `text` on a new connection and reads until the server closes it. */
function exchange(url: string, text: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.write(Buffer.from(text, 'latin1'));
  });
}

function parse(answer: string): { statusLine: string; body: unknown } {
  const [head, body = ''] = answer.split('\r\n\r\n');
  return { statusLine: head!.split('\r\n')[0]!, body: JSON.parse(body) };
}

// Found by the property test test/api/malformed-input.test.ts: requests Node's parser refuses got a
// bare `400 Bad Request` (or 431, 417) with no body, not the API's error body.
describe('serve() answers requests Node cannot parse with the API error body', () => {
  const start = async () => {
    const fusion = fakeFusion(() => Response.json({ ok: true }), {
      errorBody: (url, error) =>
        url.startsWith('/v1/messages')
          ? { type: 'error', error: { type: error.type, message: error.message } }
          : undefined,
    });
    running = await serve(fusion, { port: 0, signals: false });
    return running.url;
  };

  it.each([
    ['a path that is not one', 'GET v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 400],
    ['bytes a path cannot hold', 'GET /v1/models/\xff HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 400],
    [
      'a negative Content-Length',
      'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n{}',
      400,
    ],
    [
      'a chunk size that is not hex',
      'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      400,
    ],
    [
      'headers too large',
      `GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`,
      431,
    ],
    [
      'an Expect other than 100-continue',
      'POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: nonsense\r\nContent-Length: 2\r\n\r\n{}',
      417,
    ],
    ['an HTTP/1.1 request without Host', 'GET /v1/models HTTP/1.1\r\n\r\n', 400],
    [
      'CONNECT, which Node closed in silence',
      'CONNECT /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}',
      405,
    ],
  ])('%s', async (_name, text, status) => {
    const { statusLine, body } = parse(await exchange(await start(), text));
    expect(statusLine).toBe(`HTTP/1.1 ${status} ${statusLine.split(' ').slice(2).join(' ')}`);
    expect(body).toMatchObject({
      error: { message: expect.any(String), type: 'invalid_request_error', code: expect.any(String) },
    });
    expect((body as { error: object }).error).toHaveProperty('param', null);
  });

  it("in the route's own shape when the request line names it (Anthropic's on /v1/messages)", async () => {
    const url = await start();
    const refused = parse(
      await exchange(url, 'POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n{}'),
    );
    expect(refused.statusLine).toBe('HTTP/1.1 400 Bad Request');
    const lowerCase = parse(await exchange(url, 'GET /v1/messages http/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
    expect(lowerCase.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect(refused.body).toEqual({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: expect.stringContaining('HPE_INVALID_CONTENT_LENGTH'),
      },
    });
    const expectation = parse(
      await exchange(
        url,
        'POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: x\r\nContent-Length: 2\r\n\r\n{}',
      ),
    );
    expect(expectation.statusLine).toBe('HTTP/1.1 417 Expectation Failed');
    expect(expectation.body).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('still serves good requests on the same server', async () => {
    const url = await start();
    await exchange(url, 'GET v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(await (await fetch(`${url}/v1/models`)).json()).toEqual({ ok: true });
  });
});
