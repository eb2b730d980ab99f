import { toFusionError } from '../errors/to-fusion-error.js';
import type { EventBus } from '../events/event-bus.js';
import type { ModelRegistry } from '../registry/model-registry.js';
import type { ProviderV1 } from '../spec/provider/v1/provider-v1.js';

const CHECK_TIMEOUT_MS = 3000;

/**
 * Polls every provider's `health()` on an interval (unref'd, so it never keeps a process alive),
 * applies the reports to the registry, and retries model discovery of providers that have none yet
 * (an upstream that was down at start joins when it comes up).
 */
export class HealthMonitor {
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> | undefined;

  constructor(
    private readonly registry: ModelRegistry,
    private readonly events: EventBus,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || this.#timer) return;
    this.#timer = setInterval(() => void this.checkAll(), this.intervalMs);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Checks every provider now; concurrent calls share one round. */
  checkAll(): Promise<void> {
    this.#running ??= Promise.all(this.registry.providers().map((provider) => this.check(provider))).then(
      () => {
        this.#running = undefined;
      },
    );
    return this.#running;
  }

  async check(provider: ProviderV1): Promise<void> {
    const signal = AbortSignal.timeout(CHECK_TIMEOUT_MS);
    const hasModels = this.registry.list().some((model) => model.provider === provider);
    try {
      if (!hasModels) await this.registry.refresh(provider.id, signal);
      if (provider.health) {
        this.registry.setHealth(provider.id, await provider.health({ signal }));
      } else if (!this.registry.health(provider.id) || !hasModels) {
        this.registry.setHealth(provider.id, { status: 'ready' });
      }
    } catch (error) {
      const fusionError = toFusionError(error);
      this.registry.setHealth(provider.id, { status: 'unhealthy', message: fusionError.message });
      this.events.emit('provider:error', { provider: provider.id, error: fusionError });
    }
  }
}
