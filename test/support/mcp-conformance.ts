/**
 * Runs the official MCP conformance suite (`@modelcontextprotocol/conformance`) against a server URL.
 * The suite needs Node ≥ 22 while the project supports Node 20, so it runs through
 * `npx -p node@24`, both fetched from the npm registry into npm's cache (the first run downloads
 * them; later runs reuse the cache).
 */
import { spawn } from 'node:child_process';

/** The suite release the scenarios below were measured with; bump deliberately. */
export const CONFORMANCE_PACKAGE = '@modelcontextprotocol/conformance@0.2.0-alpha.12';

export interface ScenarioResult {
  name: string;
  passed: boolean;
  checks: { passed: number; failed: number };
  /** Listed under "Not scored" (extension, pending, added after the release). */
  scored: boolean;
}

export interface ConformanceRun {
  scenarios: ScenarioResult[];
  /** Scored scenarios that failed. */
  failures: string[];
  output: string;
  exitCode: number | null;
}

/**
 * Runs `conformance server --url <url>` with `args` (`--requirements 2025-11-25`, `--suite all`,
 * `--scenario x`) and reads its summary.
 */
export function runConformance(
  url: string,
  args: string[] = [],
  timeoutMs = 600_000,
): Promise<ConformanceRun> {
  const child = spawn(
    'npx',
    ['-y', '-p', 'node@24', '-p', CONFORMANCE_PACKAGE, '--', 'conformance', 'server', '--url', url, ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', npm_config_update_notifier: 'false' },
    },
  );
  let output = '';
  child.stdout.on('data', (data: Buffer) => {
    output += data.toString();
  });
  child.stderr.on('data', (data: Buffer) => {
    output += data.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`the conformance suite did not finish within ${timeoutMs} ms:\n${output.slice(-4000)}`),
      );
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (exitCode) => {
      clearTimeout(timer);
      resolve({ ...parseSummary(output), output, exitCode });
    });
  });
}

/** Reads the `=== SUMMARY ===` section: `✓ name: 3 passed, 0 failed` lines and the "Not scored" list. */
export function parseSummary(output: string): Pick<ConformanceRun, 'scenarios' | 'failures'> {
  const summary = output.slice(output.lastIndexOf('=== SUMMARY ==='));
  const scored = summary.split(/^Total:/m)[0] ?? '';
  const unscoredPart = summary.split(/^Not scored/m)[1] ?? '';
  const unscored = new Set([...unscoredPart.matchAll(/^\s+[✓✗] (\S+) \(/gm)].map((match) => match[1]!));
  const scenarios = [...scored.matchAll(/^([✓✗]) ([\w./-]+): (\d+) passed, (\d+) failed/gm)].map(
    ([, mark, name, passed, failed]) => ({
      name: name!,
      passed: mark === '✓',
      checks: { passed: Number(passed), failed: Number(failed) },
      scored: !unscored.has(name!),
    }),
  );
  return {
    scenarios,
    failures: scenarios
      .filter((scenario) => scenario.scored && !scenario.passed)
      .map((scenario) => scenario.name),
  };
}
