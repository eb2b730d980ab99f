import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventBus } from '../events/event-bus.js';
import type { FusionEvents } from '../events/fusion-events.js';
import { ModelRegistry } from '../registry/model-registry.js';
import { createMockProvider } from '../test/mock-provider.js';
import { HealthMonitor } from './health-monitor.js';

afterEach(() => {
  vi.useRealTimers();
});

function setup() {
  const events = new EventBus();
  const registry = new ModelRegistry({ events });
  const errors: FusionEvents['provider:error'][] = [];
  events.on('provider:error', (event) => errors.push(event));
  return { events, registry, errors };
}

describe('HealthMonitor', () => {
  it('discovers the models of a provider that was down at start once it comes up', async () => {
    const { events, registry, errors } = setup();
    const mock = createMockProvider({ id: 'late', models: [{ id: 'm' }] });
    const models = mock.models;
    let up = false;
    mock.models = async () => {
      if (!up) throw new Error('ECONNREFUSED');
      return models();
    };
    await registry.register(mock, { discover: false });
    const monitor = new HealthMonitor(registry, events, 0);
    await monitor.check(mock);
    expect(registry.health('late')).toMatchObject({ status: 'unhealthy' });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.error.code).toBe('internal_error');
    up = true;
    await monitor.checkAll();
    expect(registry.find('late/m')?.status).toBe('ready');
    expect(registry.health('late')).toEqual({ status: 'ready' });
  });

  it('applies the provider’s own health report', async () => {
    const { events, registry } = setup();
    const mock = createMockProvider({ id: 'p', health: { status: 'loading', message: 'warming up' } });
    await registry.register(mock);
    const monitor = new HealthMonitor(registry, events, 0);
    await monitor.check(mock);
    expect(registry.find('p/echo')).toMatchObject({ status: 'loading', statusMessage: 'warming up' });
  });

  it('polls on its interval until stopped', async () => {
    vi.useFakeTimers();
    const { events, registry } = setup();
    const mock = createMockProvider({ id: 'p' });
    const health = vi.spyOn(mock, 'health');
    await registry.register(mock);
    const monitor = new HealthMonitor(registry, events, 1000);
    monitor.start();
    monitor.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(health).toHaveBeenCalledTimes(3);
    monitor.stop();
    await vi.advanceTimersByTimeAsync(3000);
    expect(health).toHaveBeenCalledTimes(3);
  });

  it('does nothing with an interval of 0', async () => {
    vi.useFakeTimers();
    const { events, registry } = setup();
    const mock = createMockProvider({ id: 'p' });
    const health = vi.spyOn(mock, 'health');
    await registry.register(mock);
    new HealthMonitor(registry, events, 0).start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(health).not.toHaveBeenCalled();
  });
});
