import type { Reporter, TestCase } from 'vitest/node';

/**
 * With `CI=true`, a skipped or todo test fails the run: an integration test that skips itself
 * because a service is missing must not pass silently.
 */
export default class NoSkippedReporter implements Reporter {
  readonly #skipped: string[] = [];

  onTestCaseResult(testCase: TestCase): void {
    if (testCase.result().state === 'skipped')
      this.#skipped.push(`${testCase.module.moduleId} > ${testCase.fullName}`);
  }

  onTestRunEnd(): void {
    if (this.#skipped.length === 0) return;
    console.error(
      `\n${this.#skipped.length} test(s) skipped; CI=true forbids skipping:\n  ${this.#skipped.join('\n  ')}`,
    );
    process.exitCode = 1;
  }
}
