import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type FusionState, openState } from './open-state.js';

const dirs: string[] = [];
const states: FusionState[] = [];

afterEach(async () => {
  await Promise.all(states.splice(0).map((state) => state.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function open(cwd: string, env: Record<string, string> = {}) {
  const state = await openState({ cwd, env });
  states.push(state);
  return state;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fusion-state-'));
  dirs.push(dir);
  return dir;
}

describe('openState', () => {
  it('keeps values in .fusion/state.sqlite across a reopen, by namespace', async () => {
    const cwd = tempDir();
    const first = await open(cwd);
    expect(first.description).toBe(`sqlite ${join(cwd, '.fusion', 'state.sqlite')}`);
    await first.keyv('jobs').set('a', { status: 'running', steps: [1, 2] });
    await first.keyv('traces').set('a', 'a trace');

    const second = await open(cwd);
    expect(await second.keyv('jobs').get('a')).toEqual({ status: 'running', steps: [1, 2] });
    expect(await second.keyv('traces').get('a')).toBe('a trace');
    await second.keyv('jobs').delete('a');
    expect(await second.keyv('jobs').get('a')).toBeUndefined();
    expect(await second.keyv('traces').get('a')).toBe('a trace');
  });

  it('forgets values past their ttl', async () => {
    const state = await open(tempDir());
    const keyv = state.keyv('traces');
    await keyv.set('short', 1, 1);
    await keyv.set('long', 2, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await keyv.get('short')).toBeUndefined();
    expect(await keyv.get('long')).toBe(2);
  });

  it('keeps state in memory with FUSION_STATE=memory, and refuses other values', async () => {
    const cwd = tempDir();
    const state = await open(cwd, { FUSION_STATE: 'memory' });
    await state.keyv('jobs').set('a', 1);
    expect(state.description).toMatch(/^memory/);
    expect(await (await open(cwd, { FUSION_STATE: 'memory' })).keyv('jobs').get('a')).toBeUndefined();
    await expect(openState({ cwd, env: { FUSION_STATE: 'disk' } })).rejects.toThrow(/'sqlite' or 'memory'/);
  });

  it('puts the SQLite file where FUSION_STATE_DIR says', async () => {
    const cwd = tempDir();
    const state = await open(cwd, { FUSION_STATE_DIR: 'var/state' });
    expect(state.description).toBe(`sqlite ${join(cwd, 'var', 'state', 'state.sqlite')}`);
  });
});
