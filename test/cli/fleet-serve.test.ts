/**
 * A fleet end to end: the built `fusion serve` in front of two host processes named by
 * `upstreams.lab.fleet`. Calls spread over both; when one host is killed (SIGKILL) every call goes
 * to the other with no error reaching the client; started again on its port, it rejoins.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningCli, spawnCli } from '../support/spawn-cli.js';

const HOST_SCRIPT = fileURLToPath(new URL('../support/fleet-host.mjs', import.meta.url));
const MODEL = 'lab/fleet-model';

interface Host {
  name: string;
  port: number;
  child: ChildProcess;
}

function startHost(name: string, port = 0): Promise<Host> {
  const child = spawn(process.execPath, [HOST_SCRIPT, name, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (data: Buffer) => {
      output += data.toString();
      const match = /listening (\d+)/.exec(output);
      if (match) resolve({ name, port: Number(match[1]), child });
    });
    child.once('exit', (code) => reject(new Error(`host ${name} exited with ${code}: ${output}`)));
  });
}

async function kill(host: Host): Promise<void> {
  if (host.child.exitCode !== null || host.child.signalCode !== null) return;
  const exited = new Promise((resolve) => host.child.once('exit', resolve));
  host.child.kill('SIGKILL');
  await exited;
}

describe('fusion serve in front of a fleet', { timeout: 120_000 }, () => {
  let cwd: string;
  let a: Host;
  let b: Host;
  let server: RunningCli;

  beforeAll(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'fusion-fleet-'));
    [a, b] = await Promise.all([startHost('a'), startHost('b')]);
    writeFileSync(
      join(cwd, 'fusion.config.json'),
      JSON.stringify({
        upstreams: {
          lab: { baseURL: `http://127.0.0.1:${a.port}/v1`, fleet: [`http://127.0.0.1:${b.port}/v1`] },
        },
        // Health checks bring a host back into the rotation: often here, so the test need not wait.
        healthIntervalMs: 200,
      }),
    );
    server = await spawnCli(['serve'], { FUSION_STATE: '' }, cwd);
  });

  afterAll(async () => {
    await server?.stop('SIGKILL');
    for (const host of [a, b]) if (host) await kill(host);
    rmSync(cwd, { recursive: true, force: true });
  });

  /** One chat through the server (every other one streamed): the host that answered it. */
  let sent = 0;
  async function ask(): Promise<string> {
    const stream = sent++ % 2 === 1;
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, stream, messages: [{ role: 'user', content: 'Who are you?' }] }),
    });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    let content = '';
    if (!stream)
      content = (JSON.parse(text) as { choices: { message: { content: string } }[] }).choices[0]!.message
        .content;
    else {
      expect(text).not.toContain('"error"');
      for (const line of text.split('\n')) {
        if (!line.startsWith('data: {')) continue;
        content +=
          (JSON.parse(line.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta
            .content ?? '';
      }
      expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    }
    const host = /^answered by (\w+)$/.exec(content)?.[1];
    expect(host, content).toBeDefined();
    return host!;
  }

  async function askMany(count: number): Promise<Record<string, number>> {
    const answered: Record<string, number> = {};
    for (let index = 0; index < count; index++) {
      const host = await ask();
      answered[host] = (answered[host] ?? 0) + 1;
    }
    return answered;
  }

  it('spreads calls, moves them off a killed host without a client error, and takes it back', async () => {
    const spread = await askMany(20);
    expect(spread.a).toBeGreaterThan(0);
    expect(spread.b).toBeGreaterThan(0);

    await kill(a);
    // Every call is answered, by the host left.
    expect(await askMany(20)).toEqual({ b: 20 });

    a = await startHost('a', a.port);
    // Back on its port, it answers again once a health check finds it up.
    await vi.waitFor(async () => expect(await ask()).toBe('a'), { timeout: 30_000, interval: 100 });
    const after = await askMany(20);
    expect(after.a).toBeGreaterThan(0);
    expect(after.b).toBeGreaterThan(0);
  });
});
