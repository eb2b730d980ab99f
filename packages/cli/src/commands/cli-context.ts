/** What commands use of the process, so tests can run them in-process. */
export interface CliContext {
  cwd: string;
  env: Record<string, string | undefined>;
  /** Results (stdout). */
  out(line: string): void;
  /** Progress and hints (stderr). */
  log(line: string): void;
  /** The terminal behind `log`, for progress bars; plain lines are printed without it. */
  stderr?: { isTTY?: boolean; columns?: number; write(text: string): unknown };
}
