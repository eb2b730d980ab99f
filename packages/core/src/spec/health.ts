/** Health of a provider or one of its models. */
export interface HealthStatus {
  /** `ready`: serving; `loading`: warming up or loading; `unhealthy`: failing checks. */
  status: 'ready' | 'loading' | 'unhealthy';
  /** Why it is not ready. */
  message?: string;
  /** Requests waiting upstream (mlx-openai-server's `/v1/queue/stats`), for least-busy routing. */
  queueDepth?: number;
  /** Requests running upstream. */
  running?: number;
  /** Round-trip of the health probe in milliseconds. */
  latencyMs?: number;
  /** Per-model status when the provider serves several. */
  models?: Record<string, 'ready' | 'loading' | 'unhealthy'>;
  /** Whether a warm-up has completed (mlx-openai-server-lab `warmup_completed`). */
  warmedUp?: boolean;
}
