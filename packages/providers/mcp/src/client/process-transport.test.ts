import { describe, expect, it, vi } from 'vitest';
import { InvalidServerOutputError, ProcessTransport } from './process-transport.js';

const script = (source: string) =>
  new ProcessTransport({ command: process.execPath, args: ['-e', source], killGraceMs: 300 });

describe('ProcessTransport', () => {
  it('passes JSON-RPC lines on and reports any other line as invalid output', async () => {
    const transport = script(
      `process.stdout.write('{"jsonrpc":"2.0","method":"notifications/hello"}\\nnot json\\n{"valid":"json but not rpc"}\\n'); setInterval(() => {}, 1000);`,
    );
    const messages: unknown[] = [];
    const errors: Error[] = [];
    transport.onmessage = (message) => messages.push(message);
    transport.onerror = (error) => errors.push(error);
    await transport.start();
    await vi.waitFor(() => expect(errors).toHaveLength(2));
    expect(messages).toEqual([{ jsonrpc: '2.0', method: 'notifications/hello' }]);
    expect(errors[0]).toBeInstanceOf(InvalidServerOutputError);
    expect(errors[0]?.message).toContain('"not json"');
    await transport.close();
  });

  it('ends a server that ignores stdin closing, and reports its exit once', async () => {
    const transport = script(
      `process.stdin.resume(); process.on('SIGTERM', () => {}); setInterval(() => {}, 1000);`,
    );
    let closes = 0;
    transport.onclose = () => closes++;
    await transport.start();
    const pid = transport.pid!;
    await transport.close();
    expect(() => process.kill(pid, 0)).toThrow();
    expect(closes).toBe(1);
  });

  it('keeps the tail of stderr and fails to start a missing command', async () => {
    const transport = script(`process.stderr.write('boom\\n'); process.exit(2);`);
    const closed = new Promise<void>((resolve) => {
      transport.onclose = resolve;
    });
    await transport.start();
    await closed;
    expect(transport.stderr).toBe('boom\n');
    const missing = new ProcessTransport({ command: '/nonexistent/mcp-server' });
    missing.onerror = () => {};
    await expect(missing.start()).rejects.toThrow(/ENOENT/);
  });
});
