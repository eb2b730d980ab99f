/**
 * The parent-facing side of a bench server child (mock upstream, minimal proxy).
 *
 * When the file runs under `child_process.fork`, it tells the parent its port, answers samples
 * with `process.cpuUsage()` (µs, user + system, all threads) and the server's own counters, and
 * exits as soon as the IPC
 * channel closes, so a parent that dies, even by SIGKILL, leaves no orphan. Run by hand (no IPC),
 * it just prints the address.
 */

/**
 * @param {import('node:http').Server} server a listening server
 * @param {string} name printed when run by hand
 * @param {() => Record<string, number>} [counters] sent with every sample
 */
export function reportToParent(server, name, counters = () => ({})) {
  const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
  if (!process.send) {
    console.log(`${name} listening on http://127.0.0.1:${port}`);
    return;
  }
  process.on('message', (message) => {
    if (message?.type === 'sample') {
      const usage = process.cpuUsage();
      process.send?.({
        type: 'sample',
        id: message.id,
        micros: usage.user + usage.system,
        counters: counters(),
      });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ type: 'listening', port });
}

/** Reads `--name value` from argv, else the environment variable, else the default. */
export function argument(name, environmentName, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  if (index !== -1 && process.argv[index + 1] !== undefined) return process.argv[index + 1];
  return process.env[environmentName] ?? fallback;
}
