/**
 * `fusion serve` with an OTLP endpoint in its environment sends OpenTelemetry spans there (OTLP/HTTP
 * to a collector stand-in on port 0; JSON by default, protobuf with
 * `OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`): the request's server span and the upstream call's client span, in one trace, under the
 * `OTEL_SERVICE_NAME`. Without the switch no span is sent.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FaultUpstream, startFaultUpstream } from '../support/fault-upstream.js';
import { type RunningCli, spawnCli } from '../support/spawn-cli.js';

interface ExportedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  kind: number;
}
interface TraceExport {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: ExportedSpan[] }[];
  }[];
}

let upstream: FaultUpstream;
let collector: Server;
let collectorUrl: string;
const exports: TraceExport[] = [];
/** What arrived at /v1/traces, undecoded. */
const bodies: { contentType: string | undefined; body: Buffer }[] = [];
let cwd: string;
const running: RunningCli[] = [];

beforeAll(async () => {
  upstream = await startFaultUpstream({ models: { steady: { reply: 'Traced.' } } });
  collector = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url !== '/v1/traces') return response.writeHead(404).end();
      const body = Buffer.concat(chunks);
      bodies.push({ contentType: request.headers['content-type'], body });
      // Decoded when JSON; answered with an empty export response in the request's encoding.
      if (request.headers['content-type'] === 'application/json') {
        exports.push(JSON.parse(body.toString('utf8')));
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } else {
        response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      }
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  collectorUrl = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  cwd = mkdtempSync(join(tmpdir(), 'fusion-tracing-'));
});
afterAll(async () => {
  for (const cli of running) if (cli.child.exitCode === null) await cli.stop('SIGKILL');
  await upstream?.close();
  await new Promise((resolve) => collector?.close(resolve));
  if (cwd) rmSync(cwd, { recursive: true, force: true });
});

async function chat(cli: RunningCli, requestId: string): Promise<void> {
  const response = await fetch(`${cli.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ model: 'lab/steady', messages: [{ role: 'user', content: 'Hi' }] }),
  });
  expect(response.status).toBe(200);
  await response.text();
}

/** `fusion serve` before the upstream, with the collector as its OTLP endpoint and `env` on top. */
async function serveTraced(env: Record<string, string>): Promise<RunningCli> {
  const cli = await spawnCli(
    ['serve'],
    {
      FUSION_UPSTREAMS: `lab=${upstream.baseURL}`,
      FUSION_STATE: 'memory',
      OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
      ...env,
    },
    cwd,
  );
  running.push(cli);
  return cli;
}

const spansOf = (list: TraceExport[]) =>
  list.flatMap((entry) =>
    entry.resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans)),
  );

describe('fusion serve tracing', () => {
  it('sends spans over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, flushed at shutdown', async () => {
    const cli = await serveTraced({ OTEL_SERVICE_NAME: 'fusion-under-test' });
    expect(cli.output()).toContain(`tracing: spans to ${collectorUrl}/v1/traces (http/json)`);
    await chat(cli, 'traced-serve-1');
    // The batch is sent at the latest when the server closes.
    await cli.stop('SIGTERM');
    const spans = spansOf(exports);
    const server = spans.find((span) => span.name === 'POST /v1/chat/completions');
    const call = spans.find((span) => span.name === 'chat lab/steady');
    expect(server).toBeDefined();
    expect(call).toBeDefined();
    expect(call!.traceId).toBe(server!.traceId);
    expect(call!.parentSpanId).toBe(server!.spanId);
    const service = exports[0]!.resourceSpans[0]!.resource.attributes.find(
      (entry) => entry.key === 'service.name',
    );
    expect(service?.value.stringValue).toBe('fusion-under-test');
    // The upstream was asked with the call's span as its parent.
    const sent = upstream
      .chatRequests('steady')
      .find((request) => request.headers['x-request-id'] === 'traced-serve-1');
    expect(sent?.headers.traceparent).toBe(`00-${call!.traceId}-${call!.spanId}-01`);
  });

  it('sends protobuf with OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf', async () => {
    bodies.length = 0;
    const cli = await serveTraced({
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_SERVICE_NAME: 'fusion-proto-test',
    });
    expect(cli.output()).toContain(`tracing: spans to ${collectorUrl}/v1/traces (http/protobuf)`);
    await chat(cli, 'traced-proto-1');
    await cli.stop('SIGTERM');
    expect(bodies.length).toBeGreaterThan(0);
    expect(bodies.every((entry) => entry.contentType === 'application/x-protobuf')).toBe(true);
    const body = Buffer.concat(bodies.map((entry) => entry.body));
    // Strings are UTF-8 in protobuf, ids raw bytes: the upstream's traceparent names ids in the body.
    for (const text of [
      'fusion-proto-test',
      'POST /v1/chat/completions',
      'chat lab/steady',
      'gen_ai.request.model',
    ]) {
      expect(body.includes(Buffer.from(text))).toBe(true);
    }
    const sent = upstream
      .chatRequests('steady')
      .find((request) => request.headers['x-request-id'] === 'traced-proto-1');
    const [, traceId, spanId] = String(sent?.headers.traceparent).split('-');
    expect(body.includes(Buffer.from(traceId!, 'hex'))).toBe(true);
    expect(body.includes(Buffer.from(spanId!, 'hex'))).toBe(true);
  });

  it('samples as OTEL_TRACES_SAMPLER says: a trace the ratio leaves out sends no span, yet its traceparent goes upstream', async () => {
    exports.length = 0;
    bodies.length = 0;
    const cli = await serveTraced({
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0',
    });
    await chat(cli, 'sampled-out-1');
    // A caller's sampled traceparent still wins over the ratio (parent-based).
    const response = await fetch(`${cli.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-request-id': 'sampled-in-1',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      },
      body: JSON.stringify({ model: 'lab/steady', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(response.status).toBe(200);
    await response.text();
    await cli.stop('SIGTERM');
    const spans = spansOf(exports);
    expect(spans.length).toBeGreaterThan(0);
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set(['4bf92f3577b34da6a3ce929d0e0e4736']));
    const sentOut = upstream
      .chatRequests('steady')
      .find((request) => request.headers['x-request-id'] === 'sampled-out-1');
    expect(sentOut?.headers.traceparent).toMatch(/^00-[\da-f]{32}-[\da-f]{16}-00$/);
  });

  it('sends nothing with FUSION_TRACING=0, even with an endpoint', async () => {
    exports.length = 0;
    bodies.length = 0;
    const cli = await serveTraced({ FUSION_TRACING: '0' });
    await chat(cli, 'untraced-serve-1');
    await cli.stop('SIGTERM');
    expect(cli.output()).not.toContain('tracing:');
    expect(exports).toEqual([]);
    expect(bodies).toEqual([]);
    const sent = upstream
      .chatRequests('steady')
      .find((request) => request.headers['x-request-id'] === 'untraced-serve-1');
    expect(sent?.headers.traceparent).toBeUndefined();
  });
});
