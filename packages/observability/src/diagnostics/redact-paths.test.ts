import { describe, expect, it } from 'vitest';
import { redactPaths } from './redact-paths.js';

describe('redactPaths', () => {
  it('hides local paths, POSIX and Windows', () => {
    expect(redactPaths("Model not found at /Users/ana/models/qwen (ENOENT: '/Users/ana/x')")).toBe(
      "Model not found at <path> (ENOENT: '<path>')",
    );
    expect(redactPaths('~/models/qwen is missing')).toBe('<path> is missing');
    expect(redactPaths('cannot open C:\\Users\\ana\\m.gguf')).toBe('cannot open <path>');
  });

  it('keeps URLs and plain words', () => {
    const message = 'fetch failed: http://127.0.0.1:8000/v1/models answered 503 and/or timed out';
    expect(redactPaths(message)).toBe(message);
  });
});
