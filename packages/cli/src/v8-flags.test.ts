import { afterEach, describe, expect, it, vi } from 'vitest';

const setFlagsFromString = vi.fn();
vi.mock('node:v8', () => ({ default: { setFlagsFromString } }));

afterEach(() => setFlagsFromString.mockClear());

describe('tuneV8', () => {
  it('turns allocation-site pretenuring off when the command line does not name it', async () => {
    const { tuneV8 } = await import('./v8-flags.js');
    setFlagsFromString.mockClear();
    expect(tuneV8(['--enable-source-maps'])).toBe(true);
    expect(setFlagsFromString).toHaveBeenCalledWith('--no-allocation-site-pretenuring');
  });

  it('leaves the flag as the command line gives it', async () => {
    const { tuneV8 } = await import('./v8-flags.js');
    setFlagsFromString.mockClear();
    expect(tuneV8(['--allocation-site-pretenuring'])).toBe(false);
    expect(tuneV8(['--no-allocation-site-pretenuring'])).toBe(false);
    expect(setFlagsFromString).not.toHaveBeenCalled();
  });
});
