import { FusionError } from '../errors/fusion-error.js';
import { TimeoutError } from '../errors/timeout-error.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { ChatResult } from '../spec/chat/chat-result.js';
import type { RouteTarget } from '../spec/router/v1/router-v1.js';
import type { StrategyContext } from '../spec/strategy/v1/fusion-strategy-v1.js';
import type { CallGroup } from './call-group.js';

/** One call of a sampling phase. */
export interface SampleJob {
  target: RouteTarget;
  request: ChatRequest;
  /** Role recorded in the trace. @example 'sample' */
  role: string;
}

/**
 * How one call of a phase ended: answered, failed, cut (by the phase deadline or refused by a budget),
 * or stopped (the strategy had its answer without it).
 */
export interface Sample {
  index: number;
  target: RouteTarget;
  status: 'ok' | 'error' | 'cut' | 'stopped' | 'pending';
  result?: ChatResult;
  error?: unknown;
}

/** What a phase gathered. `cut` is true when the deadline or a budget left calls unanswered. */
export interface SampleOutcome {
  samples: Sample[];
  cut: boolean;
  stoppedEarly: boolean;
}

/** Whether the call path refused a call because the pipeline's budget was spent. */
export function isBudgetError(error: unknown): boolean {
  return FusionError.isInstance(error) && error.code === 'budget_exceeded';
}

/**
 * Runs the jobs in parallel and waits until every one settles, the phase deadline passes, or `stop`
 * says the strategy has enough. Calls still running then are aborted at once. A request abort
 * rejects with its reason after aborting them all. Never leaves a promise unhandled.
 */
export function collectSamples(
  context: StrategyContext<unknown>,
  group: CallGroup,
  jobs: readonly SampleJob[],
  options: { until?: number | undefined; stop?: (samples: readonly Sample[]) => boolean } = {},
): Promise<SampleOutcome> {
  const samples: Sample[] = jobs.map((job, index) => ({ index, target: job.target, status: 'pending' }));
  const controllers = jobs.map(() => group.open());
  let pending = jobs.length;
  let stoppedEarly = false;
  return new Promise<SampleOutcome>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let settled = false;
    const finish = (pendingStatus: 'cut' | 'stopped') => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      for (const sample of samples) {
        if (sample.status !== 'pending') continue;
        sample.status = pendingStatus;
        group.abort(
          controllers[sample.index]!,
          pendingStatus === 'cut'
            ? new TimeoutError('The phase deadline passed before this call answered.')
            : undefined,
        );
      }
      if (group.requestAborted) return reject(group.requestAbortReason());
      const cut = samples.some((sample) => sample.status === 'cut');
      resolve({ samples, cut, stoppedEarly });
    };
    group.whenRequestAborted().catch(() => finish('cut'));
    const settle = (index: number, result: ChatResult | undefined, error: unknown) => {
      const sample = samples[index]!;
      group.close(controllers[index]!);
      if (settled || sample.status !== 'pending') return;
      pending--;
      if (result) {
        sample.status = 'ok';
        sample.result = result;
      } else {
        sample.status = isBudgetError(error) ? 'cut' : 'error';
        sample.error = error;
      }
      if (pending === 0) return finish('cut');
      if (result && options.stop?.(samples)) {
        stoppedEarly = true;
        finish('stopped');
      }
    };
    jobs.forEach((job, index) => {
      let call: Promise<ChatResult>;
      try {
        call = context.call(job.target, job.request, {
          signal: controllers[index]!.signal,
          role: job.role,
          recordOutput: true,
        });
      } catch (error) {
        call = Promise.reject(error);
      }
      call.then(
        (result) => settle(index, result, undefined),
        (error: unknown) => settle(index, undefined, error),
      );
    });
    if (settled || jobs.length === 0) return finish('cut');
    if (options.until !== undefined) {
      timer = setTimeout(() => finish('cut'), Math.max(0, options.until - Date.now()));
    }
  });
}

/** The error when no call of a phase answered: the earliest failure, or a timeout when all were cut. */
export function noAnswer(samples: readonly Sample[], cut: boolean): unknown {
  const failed = samples.find((sample) => sample.status === 'error');
  if (failed) return failed.error;
  return new TimeoutError(cut ? 'No call answered before the deadline.' : 'No call answered.');
}

/**
 * `count` jobs cycling over the targets (sample i goes to target i mod length). With `temperature`
 * the samples use it; with a `seed` in the request, sample i uses seed + i, so that samples of one
 * model differ yet stay reproducible.
 */
export function sampleJobs(
  request: ChatRequest,
  targets: readonly RouteTarget[],
  count: number,
  role: string,
  temperature?: number,
): SampleJob[] {
  const jobs: SampleJob[] = [];
  for (let index = 0; index < count; index++) {
    let sample = request;
    if (temperature !== undefined || request.seed !== undefined) {
      sample = { ...request };
      if (temperature !== undefined) sample.temperature = temperature;
      if (request.seed !== undefined) sample.seed = request.seed + index;
    }
    jobs.push({ target: targets[index % targets.length]!, request: sample, role });
  }
  return jobs;
}
