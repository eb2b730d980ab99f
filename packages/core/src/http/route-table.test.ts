import { describe, expect, it } from 'vitest';
import type { RouteHandler } from '../spec/plugin/v1/plugin-v1.js';
import { RouteTable } from './route-table.js';

const handler =
  (name: string): RouteHandler =>
  () =>
    new Response(name);

async function nameOf(match: ReturnType<RouteTable['match']>): Promise<string | undefined> {
  if (match.kind !== 'found') return undefined;
  const response = await match.handler(new Request('http://x/'), {
    requestId: 'r',
    signal: new AbortController().signal,
    params: match.params,
  });
  return response.text();
}

describe('RouteTable', () => {
  it('matches static paths by method', async () => {
    const routes = new RouteTable();
    routes.add('get', '/v1/models', handler('list'));
    routes.add('POST', '/v1/chat/completions', handler('chat'));
    const match = routes.match('GET', '/v1/models');
    expect(match).toMatchObject({ kind: 'found', params: {} });
    expect(await nameOf(match)).toBe('list');
    expect(await nameOf(routes.match('POST', '/v1/chat/completions'))).toBe('chat');
  });

  it('binds :params, percent-decoded', () => {
    const routes = new RouteTable();
    routes.add('GET', '/api/jobs/:id/events/:kind', handler('job'));
    expect(routes.match('GET', '/api/jobs/a%20b/events/start')).toMatchObject({
      kind: 'found',
      params: { id: 'a b', kind: 'start' },
    });
    expect(routes.match('GET', '/api/jobs/a/events')).toEqual({ kind: 'not-found' });
    expect(routes.match('GET', '/api/jobs/a/events/start/extra')).toEqual({ kind: 'not-found' });
  });

  it('takes the rest of the path with *rest: model ids with slashes', () => {
    const routes = new RouteTable();
    routes.add('GET', '/v1/models/*id', handler('model'));
    expect(routes.match('GET', '/v1/models/mlx/mlx-community/Qwen3-4B')).toMatchObject({
      kind: 'found',
      params: { id: 'mlx/mlx-community/Qwen3-4B' },
    });
    expect(routes.match('GET', '/v1/models/lab%2Fllama%203')).toMatchObject({
      params: { id: 'lab/llama 3' },
    });
    // Not decodable: kept as sent rather than failing.
    expect(routes.match('GET', '/v1/models/bad%E0%A4%A')).toMatchObject({ params: { id: 'bad%E0%A4%A' } });
    // The rest must not be empty.
    expect(routes.match('GET', '/v1/models/')).toEqual({ kind: 'not-found' });
  });

  it('answers method-not-allowed with every allowed method', () => {
    const routes = new RouteTable();
    routes.add('GET', '/v1/models', handler('list'));
    routes.add('DELETE', '/v1/models', handler('clear'));
    routes.add('GET', '/v1/models/*id', handler('one'));
    routes.add('DELETE', '/v1/models/*id', handler('delete'));
    const match = routes.match('POST', '/v1/models');
    expect(match.kind).toBe('method-not-allowed');
    expect(match.kind === 'method-not-allowed' && [...match.allow].sort()).toEqual(['DELETE', 'GET', 'HEAD']);
    const dynamic = routes.match('PUT', '/v1/models/a/b');
    expect(dynamic.kind === 'method-not-allowed' && [...dynamic.allow].sort()).toEqual([
      'DELETE',
      'GET',
      'HEAD',
    ]);
  });

  it('answers HEAD with the GET route of the path, static or not, unless HEAD has its own', () => {
    const routes = new RouteTable();
    const list = handler('list');
    const one = handler('one');
    const ownHead = handler('head');
    routes.add('GET', '/v1/models', list);
    routes.add('GET', '/v1/models/*id', one);
    routes.add('GET', '/health', handler('health'));
    routes.add('HEAD', '/health', ownHead);
    routes.add('POST', '/v1/chat/completions', handler('chat'));
    expect(routes.match('HEAD', '/v1/models')).toEqual({ kind: 'found', handler: list, params: {} });
    expect(routes.match('HEAD', '/v1/models/a/b')).toMatchObject({ handler: one, params: { id: 'a/b' } });
    expect(routes.match('HEAD', '/health')).toMatchObject({ handler: ownHead });
    // No GET route: HEAD is not allowed either.
    expect(routes.match('HEAD', '/v1/chat/completions')).toEqual({
      kind: 'method-not-allowed',
      allow: ['POST'],
    });
    expect(routes.match('HEAD', '/nowhere')).toEqual({ kind: 'not-found' });
  });

  it('serves HEAD without a key where it serves GET without one', () => {
    const routes = new RouteTable();
    routes.add('GET', '/health', handler('health'), { public: true });
    routes.add('GET', '/v1/models', handler('list'));
    expect(routes.isPublic('HEAD', '/health')).toBe(true);
    expect(routes.isPublic('HEAD', '/v1/models')).toBe(false);
    expect(routes.isPublic('POST', '/health')).toBe(false);
  });

  it('answers not-found for unknown paths', () => {
    const routes = new RouteTable();
    routes.add('GET', '/health', handler('health'));
    expect(routes.match('GET', '/healthz')).toEqual({ kind: 'not-found' });
    expect(routes.match('GET', '/')).toEqual({ kind: 'not-found' });
  });

  it('refuses a duplicate static route and removes routes', () => {
    const routes = new RouteTable();
    const off = routes.add('GET', '/x', handler('x'));
    expect(() => routes.add('GET', '/x', handler('again'))).toThrow(/already registered/);
    off();
    expect(routes.match('GET', '/x')).toEqual({ kind: 'not-found' });
    routes.add('GET', '/x', handler('new'));
    const offDynamic = routes.add('GET', '/y/:id', handler('y'));
    offDynamic();
    expect(routes.match('GET', '/y/1')).toEqual({ kind: 'not-found' });
  });

  it('finds the error formatter of a path, whatever the method', () => {
    const routes = new RouteTable();
    const format = () => ({ type: 'error' });
    routes.add('POST', '/v1/messages', handler('messages'), { formatError: format });
    routes.add('GET', '/v1/things/*id', handler('thing'), { formatError: format });
    routes.add('POST', '/v1/chat/completions', handler('chat'));
    expect(routes.formatErrorOf('/v1/messages')).toBe(format);
    expect(routes.formatErrorOf('/v1/things/a/b')).toBe(format);
    expect(routes.formatErrorOf('/v1/chat/completions')).toBeUndefined();
    expect(routes.formatErrorOf('/v1/unknown')).toBeUndefined();
  });
});
