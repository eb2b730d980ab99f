import { Agent, createServer, request as httpRequest, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { IdleSocketReaper } from './idle-socket-reaper.js';

/** A real server on port 0 that records when each of its connections closed. */
interface Upstream {
  url: string;
  opened: number;
  closedAt: number[];
}

const servers: Server[] = [];
const agents: Agent[] = [];
const reapers: IdleSocketReaper[] = [];
afterEach(async () => {
  for (const reaper of reapers.splice(0)) reaper.close();
  for (const agent of agents.splice(0)) agent.destroy();
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(resolve);
        }),
    ),
  );
});

async function upstream(answer: (response: ServerResponse) => void): Promise<Upstream> {
  const state: Upstream = { url: '', opened: 0, closedAt: [] };
  const server = createServer((request, response) => {
    request.resume();
    request.once('end', () => answer(response));
  });
  server.on('connection', (socket: Socket) => {
    state.opened++;
    socket.once('close', () => state.closedAt.push(performance.now()));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return state;
}

function pooledAgent(idleMs: number): Agent {
  const agent = new Agent({ keepAlive: true, scheduling: 'lifo' });
  agents.push(agent);
  reapers.push(new IdleSocketReaper(agent, idleMs));
  return agent;
}

/** One GET read to its end; resolves when the agent has the connection back. */
function get(url: string, agent: Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { agent }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.once('end', () => setImmediate(() => resolve(text)));
    })
      .once('error', reject)
      .end();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('IdleSocketReaper', () => {
  it('closes a pooled connection once it has idled three quarters of the limit, not sooner', async () => {
    const server = await upstream((response) => response.end('ok'));
    const agent = pooledAgent(2000);
    await get(server.url, agent);
    const freedAt = performance.now();
    await sleep(100);
    expect(server.closedAt).toEqual([]);
    expect(Object.values(agent.freeSockets).flat()).toHaveLength(1);
    await expect.poll(() => server.closedAt.length, { timeout: 10_000 }).toBe(1);
    expect(server.closedAt[0]! - freedAt).toBeGreaterThanOrEqual(1400);
    expect(Object.values(agent.freeSockets).flat()).toHaveLength(0);
  });

  it('keeps reusing a connection that goes back to the pool before its limit', async () => {
    const server = await upstream((response) => response.end('ok'));
    const agent = pooledAgent(2000);
    for (let index = 0; index < 6; index++) {
      await get(server.url, agent);
      await sleep(100);
    }
    // Six calls ~100 ms apart, none after the 1.5 s of idling that closes a connection: one connection.
    expect(server.opened).toBe(1);
    expect(server.closedAt).toEqual([]);
  });

  it('never closes a connection while a request is on it', async () => {
    const server = await upstream((response) => {
      setTimeout(() => response.end('late but whole'), 1000);
    });
    const agent = pooledAgent(400);
    await get(server.url, agent);
    // The second request runs on the pooled connection for 1 s, well past its 400 ms limit.
    await sleep(20);
    expect(await get(server.url, agent)).toBe('late but whole');
    expect(server.opened).toBe(1);
    await expect.poll(() => server.closedAt.length, { timeout: 5000 }).toBe(1);
  });

  it('closes sooner when the server announces a shorter keep-alive', async () => {
    const server = await upstream((response) => {
      response.setHeader('keep-alive', 'timeout=2');
      response.end('ok');
    });
    const agent = pooledAgent(60_000);
    await get(server.url, agent);
    const freedAt = performance.now();
    // Limit: 2 s less node:http's 1 s margin; closed after three quarters of it.
    await expect.poll(() => server.closedAt.length, { timeout: 5000 }).toBe(1);
    expect(server.closedAt[0]! - freedAt).toBeGreaterThanOrEqual(500);
    expect(server.closedAt[0]! - freedAt).toBeLessThan(30_000);
  });

  it('leaves the pool alone once closed', async () => {
    const server = await upstream((response) => response.end('ok'));
    const agent = pooledAgent(80);
    await get(server.url, agent);
    reapers[0]!.close();
    await sleep(200);
    expect(server.closedAt).toEqual([]);
  });
});
