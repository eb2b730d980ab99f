/**
 * Runs async tasks one at a time in call order: a collection's writes go through one of these so that
 * two ingests never interleave their index updates and commits.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<TResult>(task: () => Promise<TResult>): Promise<TResult> {
    const result = this.#tail.then(task, task);
    // The queue continues after a failure; the caller still sees the rejection.
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
