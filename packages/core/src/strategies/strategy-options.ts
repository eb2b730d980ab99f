import { InvalidRequestError } from '../errors/invalid-request-error.js';
import type { CallOptions } from '../spec/call-options.js';
import type { RouteTarget } from '../spec/router/v1/router-v1.js';

/**
 * A strategy's options: the factory's defaults overlaid with the request's (`context.options`, from
 * a pipeline definition or an inline `/api/fusion` spec). Request options may come from a client, so
 * every value is checked where it is read and a bad one is a 400, never a 500.
 */
export function mergeOptions<TOptions extends object>(defaults: TOptions, options: unknown): TOptions {
  if (options === undefined || options === null) return defaults;
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidRequestError('Strategy options must be an object.', { param: 'options' });
  }
  return { ...defaults, ...(options as Partial<TOptions>) };
}

/** An integer option within [min, max], or its default. */
export function integerOption(
  value: unknown,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidRequestError(`Strategy option '${name}' must be an integer from ${min} to ${max}.`, {
      param: `options.${name}`,
    });
  }
  return value;
}

/** A number option within [min, max], or its default (`undefined` when that is). */
export function numberOption<TFallback extends number | undefined>(
  value: unknown,
  name: string,
  fallback: TFallback,
  min: number,
  max: number,
): number | TFallback {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= min && value <= max)) {
    throw new InvalidRequestError(`Strategy option '${name}' must be a number from ${min} to ${max}.`, {
      param: `options.${name}`,
    });
  }
  return value;
}

/** A boolean option, or its default. */
export function booleanOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new InvalidRequestError(`Strategy option '${name}' must be true or false.`, {
      param: `options.${name}`,
    });
  }
  return value;
}

/** One of a set of words, or its default. */
export function choiceOption<TChoice extends string>(
  value: unknown,
  name: string,
  choices: readonly TChoice[],
  fallback: TChoice,
): TChoice {
  if (value === undefined) return fallback;
  if (!choices.includes(value as TChoice)) {
    throw new InvalidRequestError(`Strategy option '${name}' must be one of ${choices.join(', ')}.`, {
      param: `options.${name}`,
    });
  }
  return value as TChoice;
}

/** A function option (code only: an inline spec cannot carry one), or its default. */
export function functionOption<TFunction extends (...args: never[]) => unknown>(
  value: unknown,
  name: string,
  fallback: TFunction,
): TFunction {
  if (value === undefined) return fallback;
  if (typeof value !== 'function') {
    throw new InvalidRequestError(`Strategy option '${name}' can only be given in code, as a function.`, {
      param: `options.${name}`,
    });
  }
  return value as TFunction;
}

/** A text option, or its default. */
export function textOption(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !value.trim()) {
    throw new InvalidRequestError(`Strategy option '${name}' must be a non-empty string.`, {
      param: `options.${name}`,
    });
  }
  return value;
}

/** A target option given as a model name or a full target. */
export function targetOption(value: unknown, name: string): RouteTarget | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value) return { model: value };
  if (typeof value === 'object' && value !== null && typeof (value as RouteTarget).model === 'string') {
    return value as RouteTarget;
  }
  throw new InvalidRequestError(`Strategy option '${name}' must be a model name or a target.`, {
    param: `options.${name}`,
  });
}

/** A list of targets option. */
export function targetListOption(value: unknown, name: string): RouteTarget[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidRequestError(`Strategy option '${name}' must be a non-empty list of targets.`, {
      param: `options.${name}`,
    });
  }
  return value.map((item, index) => targetOption(item, `${name}[${index}]`)!);
}

/** Options of a phase that waits for several calls (samples, candidates, proposers). */
export interface PhaseTimeOptions {
  /** Longest wait for the phase, ms; pending calls are then aborted. @default no limit of its own */
  timeoutMs?: number;
  /**
   * Fraction of the time left before the request's deadline (`callOptions.deadline`) the phase may
   * use; the rest stays for what follows (a judge, an aggregator, the answer itself).
   */
  timeShare?: number;
}

/** The absolute time (ms since epoch) a waiting phase ends, or `undefined` for no limit. */
export function phaseDeadline(
  callOptions: CallOptions,
  timeoutMs: number | undefined,
  timeShare: number,
  now = Date.now(),
): number | undefined {
  let until = timeoutMs === undefined ? undefined : now + timeoutMs;
  if (callOptions.deadline !== undefined) {
    const shared = now + Math.max(0, callOptions.deadline - now) * timeShare;
    until = until === undefined ? shared : Math.min(until, shared);
  }
  return until;
}
