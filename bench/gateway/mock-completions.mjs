/**
 * Response bodies shaped exactly like mlx-openai-server's (cubist38/mlx-openai-server,
 * `app/api/endpoints.py` and `app/schemas/openai.py`), for the mock upstream.
 *
 * - Non-streaming: FastAPI serialises the pydantic `ChatCompletionResponse` compactly, in field
 *   order, with `null` for unset optional fields; about 600 bytes here.
 * - Streaming: each `ChatCompletionChunk` goes through Python's `json.dumps(model_dump())`, which
 *   separates with `", "` and `": "`. First chunk is a role-only delta, then content deltas (each
 *   also carries `role: "assistant"`), then a final chunk with `finish_reason` and `usage`, then
 *   `data: [DONE]`.
 *
 * Everything that does not change per request is serialised once at startup, so the mock spends
 * its CPU on HTTP, like a real upstream would, not on building JSON.
 */

/** Number of `chat.completion.chunk` events in one stream (role + content deltas + final). */
export const STREAM_CHUNK_COUNT = 64;

const COMPLETION_TEXT =
  'A reverse proxy sits between clients and backend servers: it accepts each request, ' +
  'forwards it to a backend it picks and streams the answer back.';

const STREAM_TEXT =
  'A reverse proxy accepts client connections on one stable address and forwards each request ' +
  'to a backend it chooses, for example the least busy model server. It can terminate TLS, add ' +
  'authentication, enforce rate limits, cache answers and collect metrics in one place. For ' +
  'streamed completions it must pass every server-sent event through as soon as it arrives, ' +
  'without buffering, so that users see the first words of the answer immediately.';

const USAGE = {
  prompt_tokens: 31,
  total_tokens: 31 + 62,
  completion_tokens: 62,
  prompt_tokens_details: { cached_tokens: 0 },
};

/** Serialises like Python's `json.dumps` with default separators (`", "` and `": "`). */
function pythonJson(value) {
  if (Array.isArray(value)) return '[' + value.map(pythonJson).join(', ') + ']';
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value).map(([key, item]) => JSON.stringify(key) + ': ' + pythonJson(item));
    return '{' + fields.join(', ') + '}';
  }
  return JSON.stringify(value);
}

/** Splits text into `count` roughly even pieces on word boundaries, like token deltas. */
function splitIntoDeltas(text, count) {
  const words = text.split(/(?= )/);
  const deltas = [];
  for (let index = 0; index < count; index++) {
    const start = Math.floor((index * words.length) / count);
    const end = Math.floor(((index + 1) * words.length) / count);
    deltas.push(words.slice(start, end).join('') || ' ');
  }
  return deltas;
}

function delta(fields) {
  return {
    content: null,
    function_call: null,
    refusal: null,
    role: null,
    tool_calls: null,
    reasoning_content: null,
    ...fields,
  };
}

// `choices` parts of each chunk, pre-serialised; `id` goes before them, the rest after.
const contentDeltas = splitIntoDeltas(STREAM_TEXT, STREAM_CHUNK_COUNT - 2);
const chunkChoices = [
  pythonJson([{ delta: delta({ role: 'assistant' }), finish_reason: null, index: 0 }]),
  ...contentDeltas.map((content) =>
    pythonJson([{ delta: delta({ content, role: 'assistant' }), finish_reason: null, index: 0 }]),
  ),
  pythonJson([{ delta: delta({}), finish_reason: 'stop', index: 0 }]),
];
const finalUsage = pythonJson(USAGE);
const completionChoices = JSON.stringify([
  {
    finish_reason: 'stop',
    index: 0,
    message: {
      content: COMPLETION_TEXT,
      refusal: null,
      role: 'assistant',
      reasoning_content: null,
      tool_calls: null,
      tool_call_id: null,
    },
  },
]);
const completionUsage = JSON.stringify(USAGE);

/** `chatcmpl_<unix seconds><6 random digits>`, as mlx-openai-server's `get_id()`. */
export function completionId(createdSeconds) {
  const suffix = String(Math.floor(Math.random() * 1_000_000)).padStart(6, '0');
  return `chatcmpl_${createdSeconds}${suffix}`;
}

/**
 * The non-streaming `chat.completion` body.
 * @param {{ id: string, created: number, model: string, requestId: string }} fields
 */
export function completionBody({ id, created, model, requestId }) {
  return (
    `{"id":${JSON.stringify(id)},"object":"chat.completion","created":${created},` +
    `"model":${JSON.stringify(model)},"choices":${completionChoices},"usage":${completionUsage},` +
    `"request_id":${JSON.stringify(requestId)}}`
  );
}

/**
 * The SSE events of one stream, `data: {chunk}\n\n` each, ending with `data: [DONE]\n\n`.
 * @param {{ id: string, created: number, model: string, requestId: string }} fields
 * @returns {string[]} `STREAM_CHUNK_COUNT + 1` events
 */
export function streamEvents({ id, created, model, requestId }) {
  const head = `data: {"id": ${JSON.stringify(id)}, "choices": `;
  const middle = `, "created": ${created}, "model": ${JSON.stringify(model)}, "object": "chat.completion.chunk", "usage": `;
  const tail = `, "request_id": ${JSON.stringify(requestId)}}\n\n`;
  const events = new Array(chunkChoices.length + 1);
  const last = chunkChoices.length - 1;
  for (let index = 0; index <= last; index++) {
    events[index] = head + chunkChoices[index] + middle + (index === last ? finalUsage : 'null') + tail;
  }
  events[chunkChoices.length] = 'data: [DONE]\n\n';
  return events;
}
