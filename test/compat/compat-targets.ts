/**
 * The adapters under test, each serving a given orchestrator from a real server on port 0, mounted
 * the way its guide says. The compatibility suite runs the same scenarios against every target.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Fusion } from '@fusionkit/core';
import { createExpressMiddleware } from '@fusionkit/express';
import { createNextRouteHandlers, type NextRouteHandlers } from '@fusionkit/next';
import { serve } from '@fusionkit/node';
import { toRequest, writeResponse } from '@fusionkit/node/internal';
import express from 'express';

export interface RunningTarget {
  /** Base URL of the OpenAI-compatible API, with `/v1`. */
  baseURL: string;
  close(): Promise<void>;
}

export interface CompatTarget {
  name: string;
  start(fusion: Fusion): Promise<RunningTarget>;
}

async function listen(server: Server, path: string): Promise<RunningTarget> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An Express app of its own with the orchestrator mounted under `/ai`. */
function expressApp(fusion: Fusion, parseJson: boolean): express.Express {
  const app = express();
  // The JSON limit must be above the orchestrator's, or express.json() answers 413 itself (not as OpenAI does).
  if (parseJson) app.use(express.json({ limit: '8mb' }));
  app.get('/', (_req, res) => {
    res.send('the app');
  });
  app.use('/ai', createExpressMiddleware(fusion));
  return app;
}

/**
 * What `next start` does with a route handler: node:http request → `Request`, handler, `Response` →
 * node:http response. The example test runs the real `next start`.
 */
function nextLikeServer(handlers: NextRouteHandlers): Server {
  return createServer(async (req, res) => {
    const handler = handlers[req.method as keyof NextRouteHandlers];
    if (!handler) {
      res.writeHead(405).end();
      return;
    }
    const response = await handler(toRequest(req, res));
    // Answered before the whole body arrived (413): its unread rest must not be taken for a request.
    if (!req.complete && !res.headersSent) res.setHeader('connection', 'close');
    await writeResponse(response, res);
  });
}

export const TARGETS: CompatTarget[] = [
  {
    name: '@fusionkit/node serve()',
    async start(fusion) {
      const server = await serve(fusion, { port: 0, signals: false });
      return { baseURL: `${server.url}/v1`, close: () => server.close() };
    },
  },
  {
    name: '@fusionkit/express under /ai',
    start: (fusion) => listen(createServer(expressApp(fusion, false)), '/ai/v1'),
  },
  {
    name: '@fusionkit/express under /ai after express.json()',
    start: (fusion) => listen(createServer(expressApp(fusion, true)), '/ai/v1'),
  },
  {
    name: '@fusionkit/next route handlers under /api',
    start: (fusion) =>
      listen(nextLikeServer(createNextRouteHandlers(fusion, { basePath: '/api' })), '/api/v1'),
  },
];
