/**
 * A request of another API of an upstream (mlx-openai-server's audio and image routes), passed on
 * as the client sent it, but for `model`, which names the provider's own model.
 */
export interface ForwardRequest {
  /** The model: the client's id at the orchestrator, the provider's own id in `doForward`. */
  model: string;
  /**
   * The path below the API's `/v1`.
   * @example '/audio/transcriptions'
   */
  path: string;
  /**
   * The body: a JSON object, or a multipart form (files keep their names and types). Its `model`
   * field is the request's `model`.
   */
  body: Record<string, unknown> | FormData;
}
