import type { ChatRequest } from '../../spec/chat/chat-request.js';
import type { ModelInfo } from '../../spec/model/model-info.js';
import type { RouteContext, TargetState } from '../../spec/router/v1/router-v1.js';

/** A healthy, idle, closed-circuit candidate, with overrides. */
export function candidate(
  model: string,
  overrides: Omit<Partial<TargetState>, 'info'> & { info?: Partial<ModelInfo> } = {},
): TargetState {
  const { info, ...rest } = overrides;
  return {
    model,
    provider: model.split('/')[0] ?? 'lab',
    info: { id: model.split('/').pop() ?? model, ...info },
    healthy: true,
    circuit: 'closed',
    inFlight: 0,
    queued: 0,
    upstreamQueueDepth: 0,
    latency: {},
    ...rest,
  };
}

export const hello: ChatRequest = {
  model: 'fusion/test',
  messages: [{ role: 'user', content: 'Hello there' }],
};

/** A route context over the candidates. */
export function routeContext(candidates: readonly TargetState[], request: ChatRequest = hello): RouteContext {
  return { request, candidates, requestId: 'r-1', signal: new AbortController().signal };
}

/** Model ids of a route. */
export function models(targets: readonly { model: string }[]): string[] {
  return targets.map((target) => target.model);
}
