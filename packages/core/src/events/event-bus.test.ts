import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventBus } from './event-bus.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('EventBus', () => {
  it('delivers typed payloads and unsubscribes', () => {
    const bus = new EventBus();
    const seen: string[] = [];
    const off = bus.on('model:register', ({ model, provider }) => seen.push(`${provider}:${model}`));
    expect(bus.has('model:register')).toBe(true);
    bus.emit('model:register', { model: 'a/x', provider: 'a' });
    off();
    bus.emit('model:register', { model: 'a/y', provider: 'a' });
    expect(seen).toEqual(['a:a/x']);
    expect(bus.has('model:register')).toBe(false);
  });

  it('once fires a single time', () => {
    const bus = new EventBus();
    const listener = vi.fn();
    bus.once('fusion:close', listener);
    bus.emit('fusion:close', {});
    bus.emit('fusion:close', {});
    expect(listener).toHaveBeenCalledTimes(1);
    expect(bus.has('fusion:close')).toBe(false);
  });

  it('once returns an unsubscribe that works before the event', () => {
    const bus = new EventBus();
    const listener = vi.fn();
    const off = bus.once('fusion:close', listener);
    off();
    bus.emit('fusion:close', {});
    expect(listener).not.toHaveBeenCalled();
  });

  it('isolates a throwing listener from the emitter and the other listeners', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    const bus = new EventBus();
    const after = vi.fn();
    bus.on('fusion:close', () => {
      throw new Error('listener bug');
    });
    bus.on('fusion:close', after);
    expect(() => bus.emit('fusion:close', {})).not.toThrow();
    expect(after).toHaveBeenCalledTimes(1);
    await Promise.resolve();
    expect(errors).toHaveBeenCalledWith(expect.stringContaining("'fusion:close'"), expect.any(Error));
  });

  it('a listener added or removed during an emit counts from the next emit', () => {
    const bus = new EventBus();
    const seen: string[] = [];
    const late = () => seen.push('late');
    const offFirst = bus.on('fusion:close', () => {
      seen.push('first');
      offSecond();
      bus.on('fusion:close', late);
    });
    const offSecond = bus.on('fusion:close', () => seen.push('second'));
    bus.emit('fusion:close', {});
    expect(seen).toEqual(['first', 'second']);
    offFirst();
    bus.emit('fusion:close', {});
    expect(seen).toEqual(['first', 'second', 'late']);
  });

  it('removeAll drops every listener', () => {
    const bus = new EventBus();
    const listener = vi.fn();
    bus.on('fusion:close', listener);
    bus.removeAll();
    bus.emit('fusion:close', {});
    expect(listener).not.toHaveBeenCalled();
  });
});
