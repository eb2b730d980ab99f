/**
 * One HTTP exchange with `node:http`, timed: the unit of the unloaded measurements, the smoke
 * checks and the readiness wait.
 *
 * Times are from just before the request is written: `firstByteMs` when the first body bytes
 * arrive (not the headers, which a gateway may flush before the upstream has answered) and
 * `lastByteMs` when the body ends. Every exchange has a hard timeout, so no loop built on it can
 * hang.
 */
import { request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * @param {object} options
 * @param {string} options.url
 * @param {string} [options.method] `POST` when there is a body, else `GET`
 * @param {string} [options.body] JSON text
 * @param {import('node:http').Agent | false} [options.agent] keep-alive agent to reuse a connection
 * @param {number} [options.timeoutMs] whole-exchange limit
 * @param {boolean} [options.keepBody] return the whole body, else only its last 64 bytes
 * @returns {Promise<{ status: number, firstByteMs: number, lastByteMs: number, bytes: number, body: string }>}
 */
export function httpOnce({ url, method, body, agent, timeoutMs = 5_000, keepBody = false }) {
  return new Promise((resolve, reject) => {
    const headers =
      body === undefined
        ? {}
        : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const started = performance.now();
    let firstByteMs = Number.NaN;
    const request = httpRequest(url, {
      method: method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      agent,
    });
    const timer = setTimeout(
      () => request.destroy(new Error(`no complete answer from ${url} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    request.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.on('response', (response) => {
      const chunks = [];
      let bytes = 0;
      let tail = '';
      response.on('data', (chunk) => {
        if (bytes === 0) firstByteMs = performance.now() - started;
        bytes += chunk.length;
        if (keepBody) chunks.push(chunk);
        else tail = (tail + chunk.toString('latin1')).slice(-64);
      });
      response.on('end', () => {
        const lastByteMs = performance.now() - started;
        clearTimeout(timer);
        const text = keepBody ? Buffer.concat(chunks).toString('utf8') : tail;
        resolve({ status: response.statusCode ?? 0, firstByteMs, lastByteMs, bytes, body: text });
      });
      response.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    request.end(body);
  });
}

/**
 * Polls `url` until it answers any HTTP status, the deadline passes, or `isGone()` says the server
 * process has exited.
 */
export async function waitForHttp(url, { timeoutMs, isGone = () => false, intervalMs = 100 }) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    if (isGone()) throw new Error(`the server exited before ${url} answered`);
    try {
      return await httpOnce({ url, agent: false, timeoutMs: 1_000 });
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${lastError?.message ?? 'no answer'})`);
}
