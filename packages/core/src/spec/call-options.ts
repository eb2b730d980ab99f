/**
 * What the orchestrator passes with every provider, retriever and strategy call.
 */
export interface CallOptions {
  /** Aborted when the client disconnects, a deadline passes or a strategy drops the call. */
  signal: AbortSignal;
  /** The id of the client request, sent upstream as `x-request-id` and present in every event. */
  requestId: string;
  /**
   * Absolute deadline (ms since epoch, as `Date.now()`) of the whole call. The signal fires at it;
   * providers may use it to set their own upstream timeouts.
   */
  deadline?: number;
  /** Absolute deadline for the first content token of a stream. */
  firstTokenDeadline?: number;
  /** Headers to forward upstream (already filtered by the orchestrator). */
  headers?: Record<string, string>;
  /**
   * The id of the API key the request was made with, when keys are on. A strategy that calls models
   * outside its context (a RAG search embedding the question) passes it on, so that the tokens are
   * charged to that key. Set on a strategy's `callOptions`.
   */
  apiKeyId?: string;
}
