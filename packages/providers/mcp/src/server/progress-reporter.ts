import type { ServerContext } from '@modelcontextprotocol/server';

/**
 * Sends `notifications/progress` for the request being handled, when the client asked for them
 * (a `progressToken` in `_meta`). Progress only grows; a failed send (client gone) is ignored.
 */
export class ProgressReporter {
  readonly #context: ServerContext;
  readonly #token: string | number | undefined;
  #last = -1;

  constructor(context: ServerContext) {
    this.#context = context;
    this.#token = context.mcpReq._meta?.progressToken;
  }

  get wanted(): boolean {
    return this.#token !== undefined;
  }

  async report(progress: number, message?: string, total?: number): Promise<void> {
    if (this.#token === undefined || progress <= this.#last) return;
    this.#last = progress;
    await this.#context.mcpReq
      .notify({
        method: 'notifications/progress',
        params: {
          progressToken: this.#token,
          progress,
          ...(total === undefined ? {} : { total }),
          ...(message ? { message } : {}),
        },
      })
      .catch(() => {});
  }
}
