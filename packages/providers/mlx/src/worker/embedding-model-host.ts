/**
 * An embedding model loaded in the worker: BERT-family weights and WordPiece/BPE tokenizer. Texts
 * are batched by length (less padding), truncated to the model's positions, and pooled as the
 * model's sentence-transformers files say.
 */
import type { ModelManifest } from '../loading/model-manifest.js';
import { mlx } from '../mlx/mlx-binding.js';
import { BertEncoder, type PoolingOptions } from '../model/bert-encoder.js';
import { TextTokenizer } from '../tokenizer/text-tokenizer.js';
import type { EmbedResultValue, LoadedModelInfo } from './protocol.js';

/** Texts encoded together. */
const BATCH_SIZE = 32;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class EmbeddingModelHost {
  readonly model: BertEncoder;
  readonly tokenizer: TextTokenizer;
  readonly pooling: PoolingOptions;
  readonly info: LoadedModelInfo;

  constructor(manifest: ModelManifest) {
    const startedAt = performance.now();
    this.tokenizer = TextTokenizer.fromFiles(manifest.tokenizerFile, manifest.tokenizerConfig);
    this.model = BertEncoder.load(manifest);
    this.pooling = manifest.pooling ?? { mode: 'mean', normalize: true };
    this.info = {
      kind: 'embeddings',
      weightBytes: this.model.weights.bytes,
      contextLength: this.model.config.contextLength,
      loadMs: Math.round(performance.now() - startedAt),
    };
  }

  readonly kvCacheBytes = 0;

  /** Token ids of one text, truncated to the model's positions (keeping the final special token). */
  tokens(text: string): number[] {
    const ids = this.tokenizer.encode(text);
    const limit = this.model.config.contextLength;
    if (ids.length <= limit) return ids;
    return [...ids.slice(0, limit - 1), ids[ids.length - 1]!];
  }

  async embed(input: string[], cancelled: () => boolean): Promise<EmbedResultValue> {
    const mx = mlx();
    const tokenized = input.map((text, index) => ({ index, ids: this.tokens(text) }));
    const promptTokens = tokenized.reduce((sum, entry) => sum + entry.ids.length, 0);
    const order = [...tokenized].sort((a, b) => a.ids.length - b.ids.length);
    const embeddings: number[][] = new Array(input.length);
    for (let start = 0; start < order.length; start += BATCH_SIZE) {
      const batch = order.slice(start, start + BATCH_SIZE);
      const vectors = this.model.encode(
        batch.map((entry) => entry.ids),
        this.pooling,
      );
      mx.eval(vectors);
      const rows = vectors.tolist() as number[][];
      batch.forEach((entry, row) => {
        embeddings[entry.index] = rows[row]!;
      });
      await yieldToEventLoop();
      if (cancelled()) break;
    }
    return { embeddings, promptTokens };
  }
}
