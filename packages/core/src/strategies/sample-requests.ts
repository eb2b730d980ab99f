import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { RouteTarget } from '../spec/router/v1/router-v1.js';
import type { SampleJob } from './collect-samples.js';

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
