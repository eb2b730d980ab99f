import type { RegisteredModel } from '../registry/registered-model.js';
import type { ChatRequest } from '../spec/chat/chat-request.js';
import type { ChatResult } from '../spec/chat/chat-result.js';
import type { EmbedRequest } from '../spec/embedding/embed-request.js';
import type { EmbedResult } from '../spec/embedding/embed-result.js';
import type { ForwardRequest } from '../spec/provider/v1/forward-request.js';
import { FOLLOWS_ABORT, raceScope } from '../util/abort-scope.js';
import { hasContent } from '../util/has-content.js';
import { type CallDependencies, callRun, forModel, type ModelCallOptions } from './call-run.js';
import { estimateResultUsage } from './estimate-usage.js';

export { type CallDependencies, isLocalRefusal, type ModelCallOptions } from './call-run.js';
export { callStream } from './model-call-stream.js';

/**
 * One non-streamed chat call of one model: waits for a queue slot, marks the model in use (loading
 * it if needed), applies the total deadline, reports events, and frees everything when done. A
 * provider that ignores its signal cannot hang it.
 */
export async function callChat(
  deps: CallDependencies,
  model: RegisteredModel,
  request: ChatRequest,
  options: ModelCallOptions,
): Promise<ChatResult> {
  const run = callRun(deps, model, options, false);
  try {
    const callOptions = run.beginNow() ?? (await run.begin());
    const pending = model.provider.doChat(forModel(request, model), callOptions);
    const result = await (followsAbort(model) ? pending : raceScope(pending, run.scope));
    // A provider that reports no usage still costs tokens: budgets, metrics and the client see an estimate.
    result.usage ??= estimateResultUsage(request, result);
    run.succeed({ usage: result.usage });
    return result;
  } catch (error) {
    throw run.fail(error);
  } finally {
    run.end();
  }
}

/** One embeddings call, with the queue, model use, deadline and events of {@link callChat}. */
export async function callEmbed(
  deps: CallDependencies,
  model: RegisteredModel,
  request: EmbedRequest,
  options: ModelCallOptions,
): Promise<EmbedResult> {
  const run = callRun(deps, model, options, false);
  try {
    const callOptions = run.beginNow() ?? (await run.begin());
    // Providers always answer floats (`EmbedResult`); base64 is applied at the HTTP boundary.
    const { encoding_format: _encoding, ...floatRequest } = request;
    const result = await raceScope(
      model.provider.doEmbed!({ ...floatRequest, model: model.localId }, callOptions),
      run.scope,
    );
    run.succeed();
    return result;
  } catch (error) {
    throw run.fail(error);
  } finally {
    run.end();
  }
}

/**
 * One forwarded request (an audio or image route of the upstream), with the queue, model use,
 * deadline and events of {@link callChat}. The provider gets its own model id in the body too.
 */
export async function callForward(
  deps: CallDependencies,
  model: RegisteredModel,
  request: ForwardRequest,
  options: ModelCallOptions,
): Promise<Response> {
  const run = callRun(deps, model, options, false);
  try {
    const callOptions = run.beginNow() ?? (await run.begin());
    let body: ForwardRequest['body'];
    if (request.body instanceof FormData) {
      body = request.body;
      body.set('model', model.localId);
    } else body = { ...request.body, model: model.localId };
    const response = await raceScope(
      model.provider.doForward!({ model: model.localId, path: request.path, body }, callOptions),
      run.scope,
    );
    run.succeed();
    return response;
  } catch (error) {
    throw run.fail(error);
  } finally {
    run.end();
  }
}

export { hasContent };

/** Whether the model's provider settles its calls as soon as their scope aborts (see {@link FOLLOWS_ABORT}). */
function followsAbort(model: RegisteredModel): boolean {
  return (model.provider as { [FOLLOWS_ABORT]?: boolean })[FOLLOWS_ABORT] === true;
}
