import {
  FusionError,
  InvalidRequestError,
  ModelNotFoundError,
  UnavailableError,
  UnsupportedError,
} from '@fusionkit/core';
import { NATIVE_LIBRARY_MISSING } from '../mlx/native-library-error.js';
import { WorkerCallError } from '../supervisor/worker-call-error.js';

/**
 * Writes a model's directory as `<model directory>`: error messages reach clients, the host's
 * folders are the operator's business.
 */
export function hideDirectory(message: string, directory: string | undefined): string {
  return directory ? message.split(directory).join('<model directory>') : message;
}

/**
 * Turns a worker's error answer into the orchestrator's error family; passes FusionErrors on.
 * `directory`, the model's, is left out of the message.
 */
export function mapWorkerError(error: unknown, model: string, directory?: string): Error {
  if (FusionError.isInstance(error) || !(error instanceof WorkerCallError)) return error as Error;
  const { code } = error;
  const message = hideDirectory(error.message, directory);
  switch (code) {
    case 'context_length_exceeded':
      return new InvalidRequestError(message, { code, param: 'messages' });
    case 'invalid_request':
      return new InvalidRequestError(message);
    case 'unsupported_schema':
      return new UnsupportedError(message, { code, param: 'response_format.json_schema.schema' });
    case 'unsupported':
    case 'unsupported_model_layout':
      return new UnsupportedError(`Model '${model}' cannot be served: ${message}`, { code });
    case 'model_not_loaded':
      return new UnavailableError(message, { retryAfterMs: 500 });
    case 'model_not_found':
      return new ModelNotFoundError(message);
    case NATIVE_LIBRARY_MISSING:
      // Nothing a retry can fix: the machine lacks a package.
      return new UnavailableError(message, { code, isRetryable: false });
    default:
      return new FusionError({
        code: 'mlx_error',
        status: Math.max(error.status, 500),
        message,
      });
  }
}
