import { describe, expect, it } from 'vitest';
import { HEADER_PAIRS, LightHeaders, lightHeadersOf } from './light-headers.js';

type Step = ['set' | 'append', string, string] | ['delete', string];

/** Applies the same steps to undici's Headers and to LightHeaders, and compares all they show. */
function same(init: Record<string, string> | [string, string][], steps: Step[] = []) {
  const real = new Headers(init);
  const light = new LightHeaders(init) as unknown as Headers;
  for (const step of steps) {
    if (step[0] === 'delete') {
      real.delete(step[1]);
      light.delete(step[1]);
    } else {
      real[step[0]](step[1], step[2]);
      light[step[0]](step[1], step[2]);
    }
  }
  expect([...light]).toEqual([...real]);
  expect([...light.keys()]).toEqual([...real.keys()]);
  expect([...light.values()]).toEqual([...real.values()]);
  expect(light.getSetCookie()).toEqual(real.getSetCookie());
  const seen: [string, string][] = [];
  light.forEach((value, name, parent) => {
    expect(parent).toBe(light);
    seen.push([name, value]);
  });
  expect(seen).toEqual([...real]);
  for (const name of [
    'content-type',
    'Content-Type',
    'set-cookie',
    'cookie',
    'vary',
    'x-missing',
    'X-Request-Id',
  ]) {
    expect(light.get(name)).toBe(real.get(name));
    expect(light.has(name)).toBe(real.has(name));
  }
  return light;
}

describe('LightHeaders', () => {
  it('is a Headers', () => {
    expect(new LightHeaders()).toBeInstanceOf(Headers);
  });

  it('shows what undici Headers shows, after any mix of set, append and delete', () => {
    same({ 'Content-Type': 'application/json', 'x-request-id': 'r1' });
    same([
      ['Vary', 'accept'],
      ['set-cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
      ['vary', 'origin'],
      ['Cookie', 'c=3'],
      ['cookie', 'd=4'],
    ]);
    // Own keys only: a polluted prototype adds no header.
    same(Object.assign(Object.create({ inherited: 'x' }), { own: '1' }));
    same({ b: '1', a: '2', 'X-Request-Id': ' padded\t' }, [
      ['append', 'Vary', 'origin'],
      ['append', 'vary', 'accept'],
      ['set', 'content-type', 'text/plain'],
      ['append', 'set-cookie', 'c=3'],
      ['append', 'Set-Cookie', 'd=4'],
      ['delete', 'B'],
      ['set', 'A', 'replaced'],
    ]);
  });

  it('refuses what Headers refuses', () => {
    const light = new LightHeaders();
    expect(() => light.set('bad name', 'x')).toThrow(TypeError);
    expect(() => light.append('x-ok', 'line\r\nbreak')).toThrow(TypeError);
    expect(() => new LightHeaders({ 'x-nul': 'a\0b' })).toThrow(TypeError);
    expect(() => new LightHeaders([['only-name'] as unknown as [string, string]])).toThrow(TypeError);
    // Every method that takes a name refuses an invalid one, reads included, as undici does.
    const real = new Headers({ 'x-ok': '1' });
    const filled = new LightHeaders({ 'x-ok': '1' }) as unknown as Headers;
    for (const name of ['bad name', '', 'a:b', 'ä', 'x\n', 'x\0', '(x)']) {
      for (const call of [
        (headers: Headers) => headers.get(name),
        (headers: Headers) => headers.has(name),
        (headers: Headers) => headers.set(name, 'v'),
        (headers: Headers) => headers.append(name, 'v'),
        (headers: Headers) => headers.delete(name),
      ]) {
        expect(() => call(real)).toThrow(TypeError);
        expect(() => call(filled)).toThrow(TypeError);
      }
    }
    expect([...filled]).toEqual([...real]);
  });

  it('lower-cases trusted mixed-case names on first use, and copies', () => {
    const light = new LightHeaders(
      [
        ['Host', 'example.test'],
        ['X-Request-Id', 'r1'],
      ],
      true,
    );
    expect(light.get('x-request-id')).toBe('r1');
    expect(light[HEADER_PAIRS]()).toEqual(['host', 'example.test', 'x-request-id', 'r1']);
    const copy = lightHeadersOf(light as unknown as Headers);
    copy.set('host', 'other.test');
    expect(light.get('host')).toBe('example.test');
    expect(lightHeadersOf(new Headers({ a: '1' })).get('A')).toBe('1');
  });

  it('can be the init of a real Headers or Response', async () => {
    const light = new LightHeaders({ 'content-type': 'text/plain', 'set-cookie': 'a=1' });
    light.append('set-cookie', 'b=2');
    expect([...new Headers(light as unknown as Headers)]).toEqual([...light]);
    const response = new Response('x', { headers: light as unknown as Headers });
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
  });
});
