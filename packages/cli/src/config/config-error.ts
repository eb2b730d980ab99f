/** One mistake of a config file or of the environment. */
export interface ConfigProblem {
  /** Where the value came from: the config file's path, or `environment`. */
  source: string;
  /** The key path: `queue.perModelConcurrency`, `upstreams.lab.baseURL`, `FUSION_PORT`. */
  key: string;
  /** What was there, shown short (`"four"`, `1.5`); absent for a missing or unknown key. */
  value?: string;
  /** What was expected, or what is wrong: `expected a positive integer`, `unknown key`. */
  expected: string;
}

/**
 * A configuration mistake. The CLI prints its message (every problem, one per line) without a
 * stack trace and exits with code 2.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';
  /** Every problem found, when the mistake came from checking the config or the environment. */
  readonly problems: readonly ConfigProblem[];

  constructor(message: string, problems: readonly ConfigProblem[] = []) {
    super(message);
    this.problems = problems;
  }

  /** An error listing every problem, grouped by source. */
  static fromProblems(problems: readonly ConfigProblem[]): ConfigError {
    const sources = [...new Set(problems.map((problem) => problem.source))];
    const lines: string[] = [];
    for (const source of sources) {
      const own = problems.filter((problem) => problem.source === source);
      const where = source === 'environment' ? 'the environment' : source;
      lines.push(`${where} has ${own.length} ${own.length === 1 ? 'mistake' : 'mistakes'}:`);
      for (const problem of own) lines.push(`  ${formatProblem(problem)}`);
    }
    return new ConfigError(lines.join('\n'), problems);
  }
}

/** `port: got "abc", expected an integer from 0 to 65535` */
export function formatProblem(problem: ConfigProblem): string {
  const key = problem.key || '(the config)';
  return problem.value === undefined
    ? `${key}: ${problem.expected}`
    : `${key}: got ${problem.value}, ${problem.expected}`;
}

/** A value as a problem line shows it: JSON, cut to 60 characters. */
export function showValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return `${value}n`;
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}
