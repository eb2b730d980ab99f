/** What commands use of the process, so tests can run them in-process. */
export interface CliContext {
  cwd: string;
  env: Record<string, string | undefined>;
  /** Results (stdout). */
  out(line: string): void;
  /** Progress and hints (stderr). */
  log(line: string): void;
}
