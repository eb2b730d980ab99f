/**
 * Building blocks of the node adapter for sibling adapters (Express): not part of the public API,
 * and free to change between minor versions.
 *
 * @module
 */
export { BodyTooLargeError, DEFAULT_MAX_BODY_BYTES } from './body-too-large-error.js';
export { closeAfterDraining, type DrainLimits } from './drain-request.js';
export { type ToRequestOptions, toRequest } from './to-request.js';
export { writeResponse } from './write-response.js';
