/** An embeddings request, in the OpenAI wire shape. */
export interface EmbedRequest {
  model: string;
  /** One text or several. Token arrays are accepted by the HTTP API only for providers that take them. */
  input: string | string[];
  /** @default 'float' */
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
}
