import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type CircuitState } from './circuit-breaker.js';

/** A breaker on a clock the test moves, recording its state changes. */
function breakerOf(options: ConstructorParameters<typeof CircuitBreaker>[0]) {
  let now = 0;
  const changes: CircuitState[] = [];
  const breaker = new CircuitBreaker(
    options,
    (state) => changes.push(state),
    () => now,
  );
  return {
    breaker,
    changes,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** Records outcomes in order: `f` a failure, `s` a success. */
function record(breaker: CircuitBreaker, outcomes: string): void {
  for (const outcome of outcomes) {
    expect(breaker.tryPass()).toBe(true);
    if (outcome === 'f') breaker.onFailure();
    else breaker.onSuccess();
  }
}

describe('CircuitBreaker', () => {
  it('opens after consecutiveFailures in a row, and a success resets the count', () => {
    const { breaker } = breakerOf({ consecutiveFailures: 3, failureRate: 1, minimumCalls: 100 });
    record(breaker, 'ffsff');
    expect(breaker.state).toBe('closed');
    record(breaker, 'f');
    expect(breaker.state).toBe('open');
    expect(breaker.tryPass()).toBe(false);
  });

  it('opens on the failure rate once the window holds minimumCalls, never before', () => {
    const options = { consecutiveFailures: 100, failureRate: 0.5, minimumCalls: 6, windowSize: 10 };
    const { breaker } = breakerOf(options);
    // 3 failures of 5 calls is 60%, but 5 calls are fewer than minimumCalls.
    record(breaker, 'fsfsf');
    expect(breaker.state).toBe('closed');
    // The sixth call fails: 4 of 6, over the rate.
    record(breaker, 'f');
    expect(breaker.state).toBe('open');
    // Exactly the rate opens too: 3 of 6.
    const second = breakerOf(options);
    record(second.breaker, 'sfsfs');
    expect(second.breaker.state).toBe('closed');
    record(second.breaker, 'f');
    expect(second.breaker.state).toBe('open');
  });

  it('stays closed below the failure rate', () => {
    const { breaker } = breakerOf({
      consecutiveFailures: 100,
      failureRate: 0.5,
      minimumCalls: 4,
      windowSize: 10,
    });
    record(breaker, 'fssssfsss');
    expect(breaker.state).toBe('closed');
  });

  it('computes the rate over the last windowSize calls only: old failures leave the window', () => {
    const { breaker } = breakerOf({
      consecutiveFailures: 100,
      failureRate: 0.5,
      minimumCalls: 4,
      windowSize: 4,
    });
    // Two failures, then successes push them out of the window of 4.
    record(breaker, 'ffss');
    expect(breaker.state).toBe('closed');
    record(breaker, 'ssss');
    // The window is 'ssss': two failures now make 50% of 4.
    record(breaker, 'f');
    expect(breaker.state).toBe('closed');
    record(breaker, 'f');
    expect(breaker.state).toBe('open');
  });

  it('lets one probe through after the cooldown; its success closes, its failure reopens', () => {
    const { breaker, changes, advance } = breakerOf({ consecutiveFailures: 1, cooldownMs: 1000 });
    record(breaker, 'f');
    expect(breaker.retryAfterMs).toBe(1000);
    advance(400);
    expect(breaker.retryAfterMs).toBe(600);
    expect(breaker.tryPass()).toBe(false);
    advance(600);
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryPass()).toBe(true);
    expect(breaker.probing).toBe(true);
    expect(breaker.tryPass()).toBe(false);
    breaker.onFailure();
    expect(breaker.state).toBe('open');
    expect(breaker.retryAfterMs).toBe(1000);
    advance(1000);
    expect(breaker.tryPass()).toBe(true);
    breaker.onSuccess();
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
  });

  it('gives an ignored probe back', () => {
    const { breaker, advance } = breakerOf({ consecutiveFailures: 1, cooldownMs: 10 });
    record(breaker, 'f');
    advance(10);
    expect(breaker.tryPass()).toBe(true);
    breaker.onIgnored();
    expect(breaker.tryPass()).toBe(true);
  });
});
