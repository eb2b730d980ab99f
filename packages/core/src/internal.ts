/**
 * Helpers shared by the @fusionkit packages. Not part of the public API: they may change in any
 * release.
 * @module
 */
export {
  type CallDependencies,
  callChat,
  callEmbed,
  callStream,
  hasContent,
  type ModelCallOptions,
} from './calls/call-model.js';
export { createTargetCallers, type TargetCallerContext } from './calls/target-caller.js';
export {
  type EventSourceLike,
  EventStreamResponse,
  RESPONSE_EVENTS,
} from './http/event-stream-response.js';
export { HEADER_PAIRS, LightHeaders } from './http/light-headers.js';
export { readBodyBytes, readJsonBody } from './http/read-json-body.js';
export { RequestGuard } from './http/request-guard.js';
export { errorResponse, jsonResponse } from './http/responses.js';
export { ChatEventSource, SSE_HEADERS, sseResponse, sseStream } from './http/sse-response.js';
export { deliverWebhook } from './jobs/deliver-webhook.js';
export { copy as copyJobSnapshot, newJobId, seconds } from './jobs/job-entry.js';
export { pageOf } from './jobs/job-page.js';
export { abortReason, abortReasonOf, linkedAbort, throwIfAborted } from './util/abort.js';
export {
  ABORT_SCOPE,
  type Abortable,
  AbortScope,
  abortableOf,
  abortReasonOfAbortable,
  FOLLOWS_ABORT,
  isAborted,
  isAbortScope,
  onAbort,
} from './util/abort-scope.js';
export { type InFlightEntry, InFlightList } from './util/in-flight-list.js';
export { createRequestId, requestIdFrom } from './util/request-id.js';
