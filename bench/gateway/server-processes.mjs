/**
 * Starts each bench server in its own child process, samples its CPU, and makes sure none
 * outlives the bench.
 *
 * - `forkServer` runs one of our `.mjs` servers and gets its port, `process.cpuUsage()` and
 *   counters over IPC.
 * - `spawnServer` runs any command (the `fusion serve` CLI); CPU comes from `/proc/<pid>/stat`.
 *   It is preloaded with `exit-with-parent.mjs` and put in its own process group, so both the
 *   gateway and anything it starts go when we stop it, and it exits if we die.
 * - Every child is remembered until it exits: `stopAll` (graceful, then SIGKILL) at the end,
 *   `killAllNow` from `process.on('exit')` and signal handlers.
 */
import { execFileSync, fork, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const children = new Set();
const OUTPUT_TAIL_BYTES = 8192;
const EXIT_WITH_PARENT = new URL('./exit-with-parent.mjs', import.meta.url).href;

let clockTicksPerSecond;
/** `getconf CLK_TCK`, the unit of `/proc/<pid>/stat` times (usually 100). */
export function clockTicks() {
  if (clockTicksPerSecond === undefined) {
    try {
      clockTicksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicksPerSecond = 100;
    }
  }
  return clockTicksPerSecond;
}

/** `[ppid, utime + stime]` of one process from `/proc/<pid>/stat`, or undefined if it is gone. */
function readStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the `(comm)`, which may contain spaces: state is [0], ppid [1], utime [11], stime [12].
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [Number(fields[1]), Number(fields[11]) + Number(fields[12])];
  } catch {
    return undefined;
  }
}

/**
 * CPU time in µs of a process and its live descendants, from `/proc` (clock-tick resolution,
 * 10 ms at 100 Hz: fine over a multi-second measurement). Undefined where `/proc` is missing.
 */
export function procCpuMicros(rootPid) {
  const root = readStat(rootPid);
  if (!root) return undefined;
  const ticksByParent = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === rootPid) continue;
    const stat = readStat(Number(entry));
    if (stat) ticksByParent.set(Number(entry), stat);
  }
  let ticks = root[1];
  const pending = [rootPid];
  while (pending.length > 0) {
    const parent = pending.pop();
    for (const [pid, [ppid, childTicks]] of ticksByParent) {
      if (ppid !== parent) continue;
      ticks += childTicks;
      pending.push(pid);
      ticksByParent.delete(pid);
    }
  }
  return (ticks * 1e6) / clockTicks();
}

function remember(child, name) {
  const handle = { name, child, output: '', exited: false, exitCode: null, detached: false };
  const keepTail = (chunk) => {
    handle.output = (handle.output + chunk.toString('utf8')).slice(-OUTPUT_TAIL_BYTES);
  };
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);
  handle.exitPromise = new Promise((resolve) => {
    child.on('exit', (code, signalName) => {
      handle.exited = true;
      handle.exitCode = code ?? signalName;
      children.delete(handle);
      // Whatever the gateway started in its group must not outlive it.
      if (handle.detached) signal(handle, 'SIGKILL');
      resolve();
    });
  });
  children.add(handle);
  return handle;
}

/**
 * Forks one of our servers and waits for its `{ type: 'listening', port }` message.
 * @returns {Promise<{ name: string, port: number, pid: number, sample: () => Promise<{ micros: number, counters: Record<string, number> }>, cpuMicros: () => Promise<number>, handle: object }>}
 */
export async function forkServer(name, modulePath, args = [], { timeoutMs = 10_000 } = {}) {
  const child = fork(modulePath, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: [] });
  const handle = remember(child, name);
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    child.on('message', (message) => {
      if (message?.type !== 'listening') return;
      clearTimeout(timer);
      resolve(message.port);
    });
    handle.exitPromise.then(() => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${handle.exitCode}) before listening:\n${handle.output}`));
    });
  });
  let nextId = 0;
  const sample = () =>
    new Promise((resolve, reject) => {
      const id = ++nextId;
      const timer = setTimeout(() => {
        child.off('message', onMessage);
        reject(new Error(`${name} did not answer a CPU sample`));
      }, 5_000);
      function onMessage(message) {
        if (message?.type !== 'sample' || message.id !== id) return;
        clearTimeout(timer);
        child.off('message', onMessage);
        resolve({ micros: message.micros, counters: message.counters });
      }
      child.on('message', onMessage);
      child.send({ type: 'sample', id });
    });
  const cpuMicros = async () => (await sample()).micros;
  return { name, port, pid: child.pid, sample, cpuMicros, handle };
}

/**
 * Spawns a Node program as a server in its own process group (so it can be stopped with
 * everything it starts), preloaded so that it exits when our IPC channel closes.
 * @returns {{ name: string, pid: number, cpuMicros: () => Promise<number | undefined>, handle: object }}
 */
export function spawnServer(name, scriptPath, args, env, nodeFlags = []) {
  const child = spawn(process.execPath, [...nodeFlags, '--import', EXIT_WITH_PARENT, scriptPath, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
  });
  const handle = remember(child, name);
  handle.detached = true;
  return { name, pid: child.pid, cpuMicros: async () => procCpuMicros(child.pid), handle };
}

function signal(handle, signalName) {
  try {
    // A negative pid signals the whole group the detached child leads.
    process.kill(handle.detached ? -handle.child.pid : handle.child.pid, signalName);
  } catch {
    // Already gone.
  }
}

/** Stops one server now (and, for a spawned one, its whole process group). */
export function killNow(handle) {
  signal(handle, 'SIGKILL');
}

/** Synchronous last resort for `process.on('exit')` and signal handlers. */
export function killAllNow() {
  for (const handle of children) signal(handle, 'SIGKILL');
}

/** SIGTERM every child, wait up to `graceMs`, then SIGKILL what is left. */
export async function stopAll(graceMs = 3_000) {
  const running = [...children];
  for (const handle of running) signal(handle, 'SIGTERM');
  let timer;
  const grace = new Promise((resolve) => (timer = setTimeout(resolve, graceMs)));
  await Promise.race([Promise.all(running.map((handle) => handle.exitPromise)), grace]);
  clearTimeout(timer);
  killAllNow();
}
