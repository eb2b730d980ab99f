/**
 * What the node adapter needs from an orchestrator. `Fusion` from `@fusionkit/core` satisfies it; so
 * does any object with a Fetch-shaped `handle`, which keeps this package free of a runtime dependency
 * on the core.
 */
export interface FusionLike {
  /** Answers one HTTP request. Expected to turn its own errors into responses. */
  handle(request: Request): Promise<Response>;
  /**
   * Stops taking new work and drains in-flight requests and streams, aborting what is left when
   * `timeoutMs` runs out. Called by `serve()` on shutdown.
   */
  close?(options?: { timeoutMs?: number }): Promise<void>;
  /** Largest request body `handle` accepts, in bytes; the adapter enforces it before `handle` runs. */
  readonly maxBodyBytes?: number;
  /**
   * The body of an error the adapter answers itself (413, 400) for a request to `url`, in the error
   * shape of the route there (Anthropic's on `/v1/messages`). Without it, OpenAI's.
   */
  errorBody?(url: string, error: { status: number; code: string; message: string; type?: string }): unknown;
}
