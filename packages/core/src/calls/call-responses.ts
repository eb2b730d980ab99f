import type { RegisteredModel } from '../registry/registered-model.js';
import { raceScope } from '../util/abort-scope.js';
import { type CallDependencies, type CallRun, callRun, type ModelCallOptions } from './call-run.js';
import { ResponsesUsageReader } from './responses-usage.js';
import { StreamWatchdog } from './stream-watchdog.js';

/**
 * One Responses API request passed to an upstream that serves it itself (`doResponses`), with the
 * queue, model use, deadlines, `call:headers` and events of a chat call. The answer goes to the
 * client unchanged; the call holds its queue slot until the body ends (or the client cancels it),
 * a stream stalled past its first-token or idle limit is aborted, and the usage read from the answer
 * is reported with `provider:call:end`. `onEnd` is called once the body ended, failed or was cancelled.
 */
export async function callResponses(
  deps: CallDependencies,
  model: RegisteredModel,
  body: Record<string, unknown>,
  options: ModelCallOptions,
  onEnd?: () => void,
): Promise<Response> {
  const streamed = body.stream === true;
  const run = callRun(deps, model, options, streamed);
  let handedOver = false;
  try {
    const callOptions = await run.begin();
    const response = await raceScope(
      model.provider.doResponses!({ ...body, model: model.localId }, callOptions),
      run.scope,
    );
    if (!response.body) {
      run.succeed();
      return response;
    }
    handedOver = true;
    return followBody(response, run, streamed, onEnd);
  } catch (error) {
    throw run.fail(error);
  } finally {
    if (!handedOver) run.end();
  }
}

/** The response with a body that ends the call when it ends, and reports the usage it carried. */
function followBody(response: Response, run: CallRun, streamed: boolean, onEnd?: () => void): Response {
  const reader = response.body!.getReader();
  const usage = new ResponsesUsageReader(streamed);
  const { firstTokenTimeoutMs, idleTimeoutMs } = run.options;
  const watchdog = streamed
    ? new StreamWatchdog(run.scope, { firstTokenTimeoutMs, idleTimeoutMs })
    : undefined;
  let ended = false;
  const end = (error?: unknown) => {
    if (ended) return;
    ended = true;
    watchdog?.stop();
    stopAbort();
    if (error === undefined) {
      const total = usage.end();
      run.succeed(total ? { usage: total } : {});
    } else run.fail(error);
    run.end();
    onEnd?.();
  };
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  // A deadline or the client's disconnect aborts the call: the client's stream fails at once, and
  // the upstream's body is let go even if it would never end by itself.
  const onAbort = () => {
    const reason = run.scope.reason;
    end(reason);
    reader.cancel(reason).catch(() => {});
    try {
      controller?.error(reason);
    } catch {}
  };
  const stopAbort = run.scope.onAbort(onAbort);
  watchdog?.start();
  const body = new ReadableStream<Uint8Array>(
    {
      start(streamController) {
        controller = streamController;
      },
      async pull(streamController) {
        try {
          const { done, value } = await reader.read();
          if (ended) return;
          if (done) {
            end();
            streamController.close();
            return;
          }
          const hadDelta = usage.sawDelta;
          usage.push(value);
          if (watchdog) {
            if (!hadDelta && usage.sawDelta) watchdog.firstToken();
            else watchdog.chunk();
          }
          streamController.enqueue(value);
        } catch (error) {
          if (ended) return;
          end(error);
          streamController.error(error);
        }
      },
      cancel(reason) {
        end(reason ?? new DOMException('The client closed the stream.', 'AbortError'));
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
