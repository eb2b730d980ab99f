/**
 * Options of the gateway bench, from flags (`--rounds 3` or `--rounds=3`) or environment
 * variables (`BENCH_ROUNDS=3`); flags win. `--help` prints them.
 */

const DEFINITIONS = [
  ['rounds', 'BENCH_ROUNDS', 3, 'interleaved rounds (A B C, C B A, ...); medians are over rounds'],
  ['duration', 'BENCH_DURATION', 5, 'seconds of load per loaded measurement'],
  ['warmup', 'BENCH_WARMUP', 1, 'seconds of discarded load before each loaded measurement'],
  ['connections', 'BENCH_CONNECTIONS', 64, 'concurrent connections under load'],
  ['requests', 'BENCH_REQUESTS', 500, 'sequential non-stream requests per unloaded measurement'],
  ['stream-requests', 'BENCH_STREAM_REQUESTS', 200, 'sequential streams per unloaded stream measurement'],
  ['targets', 'BENCH_TARGETS', 'A,B,C', 'targets to run: A mock direct, B minimal proxy, C fusion serve'],
  ['out', 'BENCH_OUT', 'bench/results/gateway.json', 'where the JSON results go (relative to the repo root)'],
  ['startup-timeout', 'BENCH_STARTUP_TIMEOUT', 30, 'seconds to wait for `fusion serve` to answer /health'],
  [
    'gateway-bin',
    'BENCH_GATEWAY_BIN',
    'packages/cli/dist/bin.js',
    'the CLI run as `<bin> serve` for target C',
  ],
  [
    'gateway-node-flags',
    'BENCH_GATEWAY_NODE_FLAGS',
    '',
    "node's flags for target C, e.g. --max-semi-space-size=32 (`npm start` and `fusion serve` pass none)",
  ],
  [
    'observability-rows',
    'BENCH_OBSERVABILITY_ROWS',
    '0',
    '1: add fusion serve with metrics off / on / metrics + tracing (OTLP) and their CPU ratios',
  ],
  [
    'observability-callgrind',
    'BENCH_OBSERVABILITY_CALLGRIND',
    '1',
    'with --observability-rows 1 and valgrind installed, 1: also count instructions per chat and per stream of the three under callgrind (~25 min; the verdict)',
  ],
];

export function helpText() {
  const lines = DEFINITIONS.map(
    ([flag, environment, fallback, description]) =>
      `  --${flag.padEnd(24)} ${environment.padEnd(30)} ${description} (default ${fallback})`,
  );
  return ['Usage: node bench/gateway/run.mjs [options]', '', `  ${'flag'.padEnd(26)} env`, ...lines].join(
    '\n',
  );
}

function camelCase(flag) {
  return flag.replace(/-([a-z])/g, (_match, letter) => letter.toUpperCase());
}

/**
 * @param {string[]} argv `process.argv.slice(2)`
 * @param {NodeJS.ProcessEnv} env
 */
export function parseOptions(argv, env) {
  const flags = new Map();
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index];
    if (argument === '--help' || argument === '-h') return { help: true };
    if (!argument.startsWith('--')) throw new Error(`unexpected argument ${argument}\n\n${helpText()}`);
    // Split at the first `=` only: a value may hold more (`--gateway-node-flags=--max-semi-space-size=32`).
    const equals = argument.indexOf('=');
    const name = equals === -1 ? argument.slice(2) : argument.slice(2, equals);
    const inline = equals === -1 ? undefined : argument.slice(equals + 1);
    if (!DEFINITIONS.some(([flag]) => flag === name))
      throw new Error(`unknown option --${name}\n\n${helpText()}`);
    const value = inline ?? argv[++index];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    flags.set(name, value);
  }
  const options = { help: false };
  for (const [flag, environment, fallback] of DEFINITIONS) {
    const raw = flags.get(flag) ?? env[environment] ?? String(fallback);
    if (typeof fallback === 'number') {
      const value = Number(raw);
      if (!Number.isFinite(value) || value < 0 || (value === 0 && flag !== 'warmup')) {
        throw new Error(`--${flag} must be a positive number, got ${raw}`);
      }
      options[camelCase(flag)] = value;
    } else {
      options[camelCase(flag)] = raw;
    }
  }
  options.targets = [
    ...new Set(
      options.targets
        .toUpperCase()
        .split(/[\s,]+/)
        .filter(Boolean),
    ),
  ];
  const unknown = options.targets.filter((key) => !['A', 'B', 'C'].includes(key));
  if (unknown.length > 0) throw new Error(`unknown target(s) ${unknown.join(', ')}: use A, B, C`);
  for (const flag of ['observabilityRows', 'observabilityCallgrind']) {
    if (!['0', '1'].includes(options[flag])) {
      throw new Error(
        `--${flag.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)} must be 0 or 1, got ${options[flag]}`,
      );
    }
  }
  options.rounds = Math.round(options.rounds);
  options.connections = Math.round(options.connections);
  return options;
}
