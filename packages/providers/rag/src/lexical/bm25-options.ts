import type { Analyzer } from './english-analyzer.js';

export interface Bm25Options {
  /** Term-frequency saturation. @default 0.9 (Lucene/Anserini's BEIR setting) */
  k1?: number;
  /** Length normalisation. @default 0.4 */
  b?: number;
  /** Index and query analysis. @default createEnglishAnalyzer() */
  analyzer?: Analyzer;
  /** Names `analyzer` in snapshots; loading refuses a snapshot made by another one. @default ENGLISH_ANALYZER_ID */
  analyzerId?: string;
}

/** An id with its score, best first in result lists. */
export interface ScoredId {
  id: string;
  score: number;
}

export interface Bm25SearchOptions {
  /** How many results. */
  k: number;
  /** Only documents for which this returns true are scored. */
  filter?: (id: string) => boolean;
}
