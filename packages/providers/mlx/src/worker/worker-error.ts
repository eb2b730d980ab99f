/** An error the worker reports to the provider with a code and HTTP status it can map. */
export class WorkerError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'WorkerError';
  }
}
