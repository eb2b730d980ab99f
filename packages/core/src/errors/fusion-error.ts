const marker = Symbol.for('@fusionkit/core/error');

/** OpenAI's error body. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}

export interface FusionErrorOptions {
  message: string;
  /** Stable machine-readable code. @example 'model_not_found' */
  code: string;
  /** HTTP status at the boundary. @default 500 */
  status?: number;
  /** OpenAI error `type`; derived from the status when omitted. */
  type?: string;
  /** The request field at fault. @example 'messages[0].role' */
  param?: string | null;
  /** Whether the same call may succeed when retried. @default status is 408, 429 or 5xx */
  isRetryable?: boolean;
  /** How long to wait before retrying, in milliseconds (sent as `Retry-After`, rounded up to seconds). */
  retryAfterMs?: number;
  cause?: unknown;
}

function typeForStatus(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/**
 * The one base of every error the orchestrator raises. Its `code` is stable; `status` maps it to HTTP
 * and {@link FusionError.toJSON} gives OpenAI's error body.
 */
export class FusionError extends Error {
  readonly [marker] = true;
  readonly code: string;
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly isRetryable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(options: FusionErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FusionError';
    this.code = options.code;
    this.status = options.status ?? 500;
    this.type = options.type ?? typeForStatus(this.status);
    this.param = options.param ?? null;
    this.isRetryable =
      options.isRetryable ?? (this.status === 408 || this.status === 429 || this.status >= 500);
    this.retryAfterMs = options.retryAfterMs;
  }

  /**
   * True for any FusionError, also one created by another installed copy of this package
   * (where `instanceof` fails).
   */
  static isInstance(error: unknown): error is FusionError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }

  toJSON(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, code: this.code, param: this.param } };
  }
}
