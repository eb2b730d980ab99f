/** What `GET /health` answers. */
export interface HealthReport {
  /** `ok`: at least one model ready; `unavailable`: none; `draining`: shutting down. */
  status: 'ok' | 'unavailable' | 'draining';
  /** Per-model status and load. */
  models: Record<
    string,
    {
      status: 'ready' | 'loading' | 'unhealthy';
      loaded?: boolean;
      in_use: number;
      /** Circuit breaker of the model as a pipeline target. */
      circuit: 'closed' | 'open' | 'half-open';
      message?: string;
    }
  >;
  /** Per-provider health, as last checked. */
  providers: Record<
    string,
    {
      status: 'ready' | 'loading' | 'unhealthy';
      message?: string;
      queue_depth?: number;
      warmed_up?: boolean;
      latency_ms?: number;
    }
  >;
  /** A hint for operators when nothing can serve. */
  message?: string;
}
