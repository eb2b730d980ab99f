import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error.js';
import { parseUpstreams } from './parse-upstreams.js';

describe('parseUpstreams', () => {
  it('reads name=baseURL pairs, trimming spaces and trailing slashes', () => {
    expect(parseUpstreams(' lab=http://127.0.0.1:8000/v1/ , mac2=https://mac2.local:8000/v1')).toEqual([
      { name: 'lab', baseURL: 'http://127.0.0.1:8000/v1' },
      { name: 'mac2', baseURL: 'https://mac2.local:8000/v1' },
    ]);
  });

  it('treats an empty or missing value as no upstream', () => {
    expect(parseUpstreams(undefined)).toEqual([]);
    expect(parseUpstreams('  ')).toEqual([]);
    expect(parseUpstreams('lab=http://a/v1,')).toHaveLength(1);
  });

  it.each([
    ['lab', /FUSION_UPSTREAMS: got "lab", expected name=baseURL/],
    ['=http://a/v1', /expected name=baseURL/],
    ['lab=not a url', /got "lab=not a url", expected an http or https URL/],
    ['lab=file:///etc/passwd', /expected an http or https URL/],
    ['la b=http://a/v1', /expected a name of letters/],
    ['lab=http://a/v1,lab=http://b/v1', /expected the name 'lab' only once/],
  ])('refuses %j', (value, message) => {
    expect(() => parseUpstreams(value)).toThrow(ConfigError);
    expect(() => parseUpstreams(value)).toThrow(message);
  });
});
