/** An error the worker answered a command with: its code, message and HTTP status. */
export class WorkerCallError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'WorkerCallError';
  }
}
