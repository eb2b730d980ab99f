import type { HealthStatus } from '../spec/health.js';
import type { ModelInfo } from '../spec/model/model-info.js';
import type { ProviderV1 } from '../spec/provider/v1/provider-v1.js';

/** A model as the registry holds it. */
export interface RegisteredModel {
  /** Served id: `provider/model`. */
  readonly id: string;
  /** The id the provider knows it by. */
  readonly localId: string;
  readonly provider: ProviderV1;
  info: ModelInfo;
  /** Requests using the model now; a model in use is never evicted. */
  inUse: number;
  /** `Date.now()` of the last use, for least-recently-used eviction. */
  lastUsed: number;
  /** Health as last reported by the provider. */
  status: HealthStatus['status'];
  statusMessage?: string;
}

/** One entry of `GET /v1/models`, in OpenAI's shape plus mlx-openai-server-lab's metadata. */
export interface ModelListEntry {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  type: string;
  family?: string;
  context_length?: number;
  tags?: string[];
  description?: string;
  capabilities?: ModelInfo['capabilities'];
  loaded?: boolean;
  status?: HealthStatus['status'];
  [extra: string]: unknown;
}
