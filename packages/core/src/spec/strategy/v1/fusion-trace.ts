import type { Usage } from '../../chat/chat-result.js';

/** What one call of a fused answer did. */
export interface TraceCall {
  /** Registered model id. */
  target: string;
  /** Role the call played in the strategy. @example 'proposer', 'judge', 'aggregator', 'sample' */
  role?: string;
  startedAt: number;
  /** Milliseconds to the first content token (streams only). */
  firstTokenMs?: number;
  totalMs?: number;
  /** How many retries the call needed. */
  retries: number;
  outcome: 'ok' | 'error' | 'aborted' | 'timeout' | 'skipped';
  /** Error code when the outcome is not `ok`. */
  error?: string;
  usage?: Usage;
  /** The call's answer text, when the strategy keeps it (votes, candidates). */
  output?: string;
}

/** The full account of a fused answer, served by `/api/fusion/traces/{id}`. */
export interface FusionTrace {
  id: string;
  requestId: string;
  /**
   * The id of the API key that asked, with API keys on: another key (not an admin key) gets the 404
   * of an unknown trace from `/api/fusion/traces/{id}`.
   */
  apiKeyId?: string;
  /** Requested model or pipeline. */
  model: string;
  strategy: string;
  startedAt: number;
  totalMs?: number;
  calls: TraceCall[];
  /** Strategy-specific outcome: vote tally, judgement, chosen candidate. */
  decision?: Record<string, unknown>;
  /** True when a budget cut the work short and the answer is what was available. */
  partial?: boolean;
  usage?: Usage;
}
