import { InvalidRequestError } from '../../errors/invalid-request-error.js';
import { NotFoundError } from '../../errors/not-found-error.js';
import { toFusionError } from '../../errors/to-fusion-error.js';
import type { Fusion } from '../../fusion/fusion.js';
import { isFinalStatus } from '../../jobs/job.js';
import { JobRunner } from '../../jobs/job-runner.js';
import type { JobRunnerLike } from '../../jobs/job-runner-like.js';
import type { RegisteredModel } from '../../registry/registered-model.js';
import type { RouteHandler } from '../../spec/plugin/v1/plugin-v1.js';
import { answerChat, openChatStream } from '../chat-call.js';
import { EventStreamResponse } from '../event-stream-response.js';
import { readJsonBody } from '../read-json-body.js';
import { jsonResponse } from '../responses.js';
import { SSE_HEADERS } from '../sse-response.js';
import { backgroundResponseJob, RESPONSE_JOB_KIND } from './background-response-job.js';
import { parseResponseRequest, type ResponseRequest } from './parse-response-request.js';
import { ResponseEventSource } from './response-event-source.js';
import { ResponseStore, type ResponseStoreOptions, type StoredResponse } from './response-store.js';
import type { InputItem, ResponseObject } from './response-types.js';
import { toChatRequest } from './to-chat-request.js';
import { itemId, responseSkeleton, toResponseObject } from './to-response-object.js';

/** Options of the Responses API (`FusionOptions.responses`). */
export interface ResponsesOptions extends ResponseStoreOptions {
  /**
   * Runs `background: true` responses, as jobs of the kind `response.background`. Give a runner
   * with a `store` (as `fusion serve` does) for background responses that survive a restart.
   * @default a runner of its own, in memory, 4 at a time
   */
  jobs?: JobRunnerLike;
}

/** Prefixes of stored input items' ids, by item type. */
const ID_PREFIXES: Record<string, string> = {
  message: 'msg',
  function_call: 'fc',
  function_call_output: 'fco',
  reasoning: 'rs',
};

/**
 * The OpenAI Responses API over the orchestrator's chat: `POST /v1/responses` (JSON, SSE events,
 * background), `GET`/`DELETE /v1/responses/{id}`, `GET /v1/responses/{id}/input_items` and
 * `POST /v1/responses/{id}/cancel`. Every model works, pipelines included: a request becomes a chat
 * request (see `toChatRequest`) and its answer a response object.
 */
export function responsesRoutes(
  fusion: Fusion,
  options: ResponsesOptions = {},
): [string, string, RouteHandler][] {
  const store = new ResponseStore(options);
  let jobs = options.jobs;
  const runner = (): JobRunnerLike => {
    if (!jobs) {
      const local = new JobRunner({ concurrency: 4 });
      local.define(RESPONSE_JOB_KIND, backgroundResponseJob(fusion, store));
      jobs = local;
    }
    return jobs;
  };
  // A durable runner resumes unfinished background responses after a restart: define their kind now.
  if (jobs) jobs.define(RESPONSE_JOB_KIND, backgroundResponseJob(fusion, store));

  const create: RouteHandler = async (request, { requestId, signal, apiKey }) => {
    const raw = await readJsonBody(request, fusion.maxBodyBytes);
    // The providers given at creation must be registered before the model is looked up.
    await fusion.ready.catch(() => {});
    const upstream = responsesUpstream(fusion, raw);
    if (upstream) {
      // The upstream serves the Responses API itself: the request goes as the client sent it.
      // As a chat call: queue, breaker, deadlines, events (its usage counts against the key).
      return fusion.responses(
        { ...(raw as Record<string, unknown>), model: upstream.id },
        { requestId, signal, apiKeyId: apiKey?.id },
      );
    }
    const body = parseResponseRequest(raw);
    const owner = apiKey?.id;
    const history = await historyOf(store, body, owner);
    const input = withIds(body.input);
    const chat = toChatRequest({ ...body, input }, history);
    const skeleton = responseSkeleton(body, itemId('resp'), body.background ? 'queued' : 'in_progress');
    const stored = body.store !== false;
    const save = (response: ResponseObject) =>
      stored
        ? store.set({ response, input, history, ...(owner === undefined ? {} : { owner }) })
        : Promise.resolve();

    if (body.background) {
      // Stored before the job starts: the job moves it on from there.
      await save(skeleton);
      // The job records its own id in the stored response when it starts (see backgroundResponseJob),
      // so that a cancel on any instance reaches it; writing it here could undo the job's progress.
      try {
        await runner().create({
          kind: RESPONSE_JOB_KIND,
          input: { id: skeleton.id, chat },
          idempotencyKey: skeleton.id,
          metadata: { response: skeleton.id },
        });
      } catch (error) {
        // No job will ever move it on, and the client never learns its id: it must not stay queued.
        if (stored) await store.delete(skeleton.id).catch(() => false);
        throw error;
      }
      return jsonResponse(skeleton, 200, requestId);
    }

    if (body.stream !== true) {
      const { result, headers } = await answerChat(fusion, chat, {
        requestId,
        abort: signal,
        apiKeyId: owner,
      });
      const response = toResponseObject(skeleton, result);
      await save(response);
      return jsonResponse(response, 200, requestId, headers);
    }

    const opened = await openChatStream(fusion, chat, { requestId, abort: signal, apiKeyId: owner }, request);
    const source = new ResponseEventSource(skeleton, opened.chunks, {
      onCancel: opened.cancel,
      onEnd: async (response, error) => {
        const usage = response.usage;
        opened.end(
          error !== undefined
            ? { error }
            : usage
              ? {
                  usage: {
                    prompt_tokens: usage.input_tokens,
                    completion_tokens: usage.output_tokens,
                    total_tokens: usage.total_tokens,
                  },
                }
              : {},
        );
        // Stored before the last event goes out: the client may continue from it at once.
        await save(response).catch((saveError: unknown) => {
          fusion.events.emit('stream:error', {
            requestId,
            model: opened.model,
            error: toFusionError(saveError),
          });
        });
      },
    });
    return new EventStreamResponse(source, { status: 200, headers: { ...SSE_HEADERS, ...opened.headers } });
  };

  /** Stops the job of a background response, if it is still running. */
  const cancelJob = async (record: StoredResponse) => {
    if (!jobs || record.jobId === undefined) return;
    const job = await jobs.get(record.jobId);
    if (job && !isFinalStatus(job.status)) await jobs.cancel(job.id);
  };

  const find = async (id: string | undefined, owner: string | undefined): Promise<StoredResponse> => {
    const record = id ? await store.get(id) : undefined;
    // Another key's response is as unknown as one never stored.
    if (!record || !visibleTo(record, owner)) {
      throw new NotFoundError(`Response with id '${id}' not found.`, { code: 'response_not_found' });
    }
    return record;
  };

  const retrieve: RouteHandler = async (request, { requestId, params, apiKey }) => {
    if (new URL(request.url).searchParams.get('stream') === 'true') {
      throw new InvalidRequestError('Replaying a response as a stream is not supported: drop `stream`.', {
        param: 'stream',
      });
    }
    const { response } = await find(params.id, apiKey?.id);
    return jsonResponse(response, 200, requestId);
  };

  const remove: RouteHandler = async (_request, { requestId, params, apiKey }) => {
    const record = await find(params.id, apiKey?.id);
    await cancelJob(record);
    await store.delete(record.response.id);
    return jsonResponse({ id: record.response.id, object: 'response', deleted: true }, 200, requestId);
  };

  const inputItems: RouteHandler = async (request, { requestId, params, apiKey }) => {
    const { input } = await find(params.id, apiKey?.id);
    const query = new URL(request.url).searchParams;
    const order = query.get('order') ?? 'desc';
    if (order !== 'asc' && order !== 'desc') {
      throw new InvalidRequestError("'order' must be 'asc' or 'desc'.", { param: 'order' });
    }
    const limitText = query.get('limit') ?? '20';
    const limit = Number(limitText);
    if (!/^\d+$/.test(limitText) || limit < 1 || limit > 100) {
      throw new InvalidRequestError("'limit' must be a whole number from 1 to 100.", { param: 'limit' });
    }
    let items = order === 'asc' ? input : [...input].reverse();
    const after = query.get('after');
    if (after) {
      const index = items.findIndex((item) => item.id === after);
      if (index < 0)
        throw new InvalidRequestError(`No input item '${after}' in this response.`, { param: 'after' });
      items = items.slice(index + 1);
    }
    const data = items.slice(0, limit);
    return jsonResponse(
      {
        object: 'list',
        data,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
        has_more: items.length > limit,
      },
      200,
      requestId,
    );
  };

  const cancel: RouteHandler = async (_request, { requestId, params, apiKey }) => {
    const record = await find(params.id, apiKey?.id);
    const { response } = record;
    if (!response.background) {
      throw new InvalidRequestError('Only responses created with `background: true` can be cancelled.', {
        param: 'response_id',
      });
    }
    if (response.status === 'queued' || response.status === 'in_progress') {
      // Stored first: a job of another instance (or resumed after a restart) sees it when it ends.
      response.status = 'cancelled';
      await store.set(record);
      await cancelJob(record);
    }
    return jsonResponse(response, 200, requestId);
  };

  return [
    ['POST', '/v1/responses', create],
    ['GET', '/v1/responses/:id', retrieve],
    ['DELETE', '/v1/responses/:id', remove],
    ['GET', '/v1/responses/:id/input_items', inputItems],
    ['POST', '/v1/responses/:id/cancel', cancel],
  ];
}

/** The model of a request whose provider serves the Responses API itself (not a pipeline's). */
function responsesUpstream(fusion: Fusion, body: unknown): RegisteredModel | undefined {
  const name = (body as { model?: unknown } | null)?.model;
  if (typeof name !== 'string' || !name) return undefined;
  if (fusion.pipelines.has(name) || fusion.pipelines.has(fusion.registry.aliasTarget(name) ?? ''))
    return undefined;
  const model = fusion.registry.find(name);
  return model?.provider.doResponses ? model : undefined;
}

/** The items a request continues: those of its `previous_response_id` (404 when unknown). */
/** With API keys on, a stored response is seen only by the key that created it. */
function visibleTo(record: StoredResponse, owner: string | undefined): boolean {
  return owner === undefined || record.owner === owner;
}

async function historyOf(
  store: ResponseStore,
  request: ResponseRequest,
  owner: string | undefined,
): Promise<InputItem[]> {
  const id = request.previous_response_id;
  if (id === undefined) return [];
  const previous = await store.get(id);
  if (!previous || !visibleTo(previous, owner)) {
    throw new NotFoundError(`Previous response with id '${id}' not found.`, {
      code: 'previous_response_not_found',
      param: 'previous_response_id',
    });
  }
  const { status } = previous.response;
  if (status === 'queued' || status === 'in_progress') {
    throw new InvalidRequestError(`Previous response '${id}' is still ${status}: wait until it ends.`, {
      param: 'previous_response_id',
    });
  }
  return [...previous.history, ...previous.input, ...(previous.response.output as unknown as InputItem[])];
}

/** The input items with an `id` each, as they are stored and listed. */
function withIds(items: InputItem[]): InputItem[] {
  return items.map((item) => {
    const type = item.type ?? 'message';
    return item.id ? { ...item, type } : { ...item, type, id: itemId(ID_PREFIXES[type] ?? 'item') };
  });
}
