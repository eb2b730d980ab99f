/** Turns texts into vectors. `fusion.embed` with a model name is one; the RAG plugin wires it. */
export interface Embedder {
  /** The embedding model; part of every cache key and recorded with each collection. @example 'mlx/bge-small' */
  readonly model: string;
  /** One vector per text, in order. */
  embed(texts: string[], options?: { signal?: AbortSignal }): Promise<number[][]>;
}

/** The plain function form of {@link Embedder.embed}. */
export type EmbedFunction = (texts: string[], options: { signal?: AbortSignal }) => Promise<number[][]>;
