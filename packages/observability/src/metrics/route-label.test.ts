import { describe, expect, it } from 'vitest';
import { methodLabel, RouteLabels } from './route-label.js';

describe('RouteLabels', () => {
  it('collapses ids of known paths and keeps static paths', () => {
    const labels = new RouteLabels();
    expect(labels.of('/v1/models/lab/qwen')).toBe('/v1/models/{model}');
    expect(labels.of('/api/fusion/traces/abc')).toBe('/api/fusion/traces/{id}');
    expect(labels.of('/v1/models')).toBe('/v1/models');
  });

  it('gives paths no route serves one label', () => {
    expect(new RouteLabels().of('/wp-admin.php', false)).toBe('unmatched');
  });

  it('labels distinct paths past the limit `other`', () => {
    const labels = new RouteLabels(2);
    expect([labels.of('/a'), labels.of('/b'), labels.of('/c'), labels.of('/a')]).toEqual([
      '/a',
      '/b',
      'other',
      '/a',
    ]);
  });
});

describe('methodLabel', () => {
  it('keeps standard methods and folds the rest', () => {
    expect([methodLabel('POST'), methodLabel('BREW')]).toEqual(['POST', 'other']);
  });
});
