/** One vector of an embeddings result. */
export interface Embedding {
  object: 'embedding';
  index: number;
  /** The vector; `base64` encoding is applied at the HTTP boundary, never by providers. */
  embedding: number[];
}

/** An embeddings result, in the OpenAI wire shape. */
export interface EmbedResult {
  object: 'list';
  model: string;
  data: Embedding[];
  usage: { prompt_tokens: number; total_tokens: number };
}
