/**
 * `fusion keys` through the built bin: a key made by `create` opens a real `fusion serve`, `list`
 * names the config's keys without showing one, `revoke` takes it out of a JSON config.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliToEnd, spawnCli } from '../support/spawn-cli.js';

let cwd: string;
beforeAll(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'fusion-keys-'));
});
afterAll(async () => {
  await rm(cwd, { recursive: true, force: true });
});

const ENV = { FUSION_STATE: '' };
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Whether a `fusion serve` on the config of `cwd` lets the key in. */
async function serveAccepts(key: string): Promise<number> {
  const server = await spawnCli(['serve'], ENV, cwd);
  try {
    const response = await fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    await response.text();
    return response.status;
  } finally {
    await server.stop();
  }
}

describe('fusion keys', { timeout: 90_000 }, () => {
  it('creates a key shown once, whose entry holds only its hash; lists and revokes it', async () => {
    const created = await runCliToEnd(
      ['keys', 'create', '--id', 'team-a', '--rpm', '60', '--tpm', '5000'],
      ENV,
      cwd,
    );
    expect(created.code).toBe(0);
    const key = /^key: (fk_\S+)$/m.exec(created.stdout)?.[1];
    expect(key).toMatch(/^fk_[\w-]{43}$/);
    const entry = JSON.parse(/^config entry \(add it to apiKeys\): (.+)$/m.exec(created.stdout)![1]!);
    expect(entry).toEqual({
      id: 'team-a',
      sha256: sha256(key!),
      requestsPerMinute: 60,
      tokensPerMinute: 5000,
    });
    expect(created.stderr).toMatch(/shown only now/);

    // Another key, given in clear: listed under the id derived from its hash.
    const plain = 'fk_plain_key_for_the_list_test';
    await writeFile(
      join(cwd, 'fusion.config.json'),
      `${JSON.stringify({ apiKeys: [entry, plain], port: 0 }, null, 2)}\n`,
    );
    expect(await serveAccepts(key!)).toBe(200);

    const list = await runCliToEnd(['keys', 'list'], ENV, cwd);
    expect(list.code).toBe(0);
    expect(list.stdout.trim().split('\n')).toEqual([
      'team-a\tsha256\t60 requests/min, 5000 tokens/min',
      `key-${sha256(plain).slice(0, 12)}\tkey\tno limits`,
    ]);
    expect(list.stdout + list.stderr).not.toContain(key!);
    expect(list.stdout + list.stderr).not.toContain(plain);
    const listJson = await runCliToEnd(['keys', 'list', '--json'], ENV, cwd);
    expect(JSON.parse(listJson.stdout)).toEqual([
      { id: 'team-a', stored: 'sha256', requestsPerMinute: 60, tokensPerMinute: 5000 },
      { id: `key-${sha256(plain).slice(0, 12)}`, stored: 'key' },
    ]);

    const revoked = await runCliToEnd(['keys', 'revoke', 'team-a'], ENV, cwd);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain("revoked 'team-a'");
    const config = JSON.parse(await readFile(join(cwd, 'fusion.config.json'), 'utf8'));
    expect(config).toEqual({ apiKeys: [plain], port: 0 });
    expect(await serveAccepts(key!)).toBe(401);
    expect(await serveAccepts(plain)).toBe(200);

    // The last key stays: without keys the server would let every request in.
    const last = await runCliToEnd(['keys', 'revoke', `key-${sha256(plain).slice(0, 12)}`], ENV, cwd);
    expect(last.code).toBe(1);
    expect(last.stderr).toContain('is the last key');
    expect(JSON.parse(await readFile(join(cwd, 'fusion.config.json'), 'utf8'))).toEqual({
      apiKeys: [plain],
      port: 0,
    });
  });

  it('names a key without --id after its hash', async () => {
    const created = await runCliToEnd(['keys', 'create', '--json'], ENV, cwd);
    expect(created.code).toBe(0);
    const { key, entry } = JSON.parse(created.stdout);
    expect(entry).toEqual({ id: `key-${sha256(key).slice(0, 12)}`, sha256: sha256(key) });
  });

  it('refuses bad input with a clear message and exit code 2, and says what to remove from code', async () => {
    for (const [args, message] of [
      [['keys', 'create', '--rpm', 'many'], '--rpm: expected a whole number'],
      [['keys', 'create', '--id', 'a b'], '--id: use 1 to 64'],
      [['keys', 'rotate'], 'expected create, list or revoke'],
      [['keys', 'revoke'], 'name the key'],
    ] as const) {
      const result = await runCliToEnd([...args], ENV, cwd);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    const unknown = await runCliToEnd(['keys', 'revoke', 'nobody'], ENV, cwd);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no key 'nobody'");

    const code = await mkdtemp(join(tmpdir(), 'fusion-keys-code-'));
    try {
      await writeFile(
        join(code, 'fusion.config.mjs'),
        "export default { apiKeys: [{ id: 'ops', key: 'fk_ops' }, 'fk_other'] };\n",
      );
      const inCode = await runCliToEnd(['keys', 'revoke', 'ops'], ENV, code);
      expect(inCode.code).toBe(1);
      expect(inCode.stderr).toContain("remove the apiKeys entry with id 'ops'");
      expect(await readFile(join(code, 'fusion.config.mjs'), 'utf8')).toContain('fk_ops');
    } finally {
      await rm(code, { recursive: true, force: true });
    }
  });
});
