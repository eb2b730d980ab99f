import type { Fusion, FusionError } from '@fusionkit/core';
import { type Logger, pino } from 'pino';
import { logPrompts } from './log-prompts.js';

/** The parts of the orchestrator logs observe. */
export type LoggedFusion = Pick<Fusion, 'events' | 'hook'>;

export interface FusionLoggerOptions {
  /** Where lines go. @default pino at `level`, JSON lines on stdout */
  logger?: Logger;
  /** Level of the default logger (`debug` adds each call and routing choice). @default 'info' */
  level?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
  /**
   * Also log what clients send and models answer (messages, answers). Off by default: prompts are
   * the users' data. Keys are never logged: no event carries a header.
   * @default false
   */
  prompts?: boolean;
}

/** What a log line tells of an error: its code, status and message, never its cause or stack. */
function errorFields(error: FusionError): { code: string; status: number; message: string } {
  return { code: error.code, status: error.status, message: error.message };
}

/**
 * JSON logs (pino) of an orchestrator, built from its event bus. Every line about a request carries
 * its `requestId` (the `x-request-id` of the response and of upstream calls). Requests end at `info`
 * (`warn` for 5xx), failures of calls and retries at `warn`, each call at `debug`.
 * Returns the unsubscribe.
 *
 * @example attachFusionLogger(fusion, { logger: pino({ level: 'debug' }) });
 */
export function attachFusionLogger(fusion: LoggedFusion, options: FusionLoggerOptions = {}): () => void {
  const logger = options.logger ?? pino({ level: options.level ?? 'info' });
  const events = fusion.events;
  const unsubscribes = [
    events.on('request:end', ({ requestId, method, path, status, durationMs }) =>
      logger[status >= 500 ? 'warn' : 'info'](
        { requestId, method, path, status, durationMs: round(durationMs) },
        'request',
      ),
    ),
    events.on('request:error', ({ requestId, error }) =>
      logger[error.status >= 500 ? 'error' : 'info'](
        { requestId, error: errorFields(error) },
        'request failed',
      ),
    ),
    events.on('stream:end', ({ requestId, model, usage }) =>
      logger.info({ requestId, model, ...(usage ? { usage } : {}) }, 'stream end'),
    ),
    events.on('stream:error', ({ requestId, model, error }) =>
      logger.warn({ requestId, model, error: errorFields(error) }, 'stream failed'),
    ),
    events.on('provider:call:start', (payload) => logger.debug(payload, 'call start')),
    events.on('provider:call:end', ({ durationMs, firstTokenMs, ...rest }) =>
      logger.debug(
        {
          ...rest,
          durationMs: round(durationMs),
          ...(firstTokenMs === undefined ? {} : { firstTokenMs: round(firstTokenMs) }),
        },
        'call end',
      ),
    ),
    events.on('provider:call:error', ({ error, durationMs, ...rest }) =>
      logger.warn({ ...rest, durationMs: round(durationMs), error: errorFields(error) }, 'call failed'),
    ),
    events.on('call:retry', ({ error, ...rest }) =>
      logger.warn({ ...rest, error: errorFields(error) }, 'retry'),
    ),
    events.on('route:choose', (payload) => logger.debug(payload, 'route')),
    events.on('hedge:fire', (payload) => logger.info(payload, 'hedge')),
    events.on('pipeline:end', ({ error, durationMs, ...rest }) =>
      logger[error ? 'warn' : 'info'](
        { ...rest, durationMs: round(durationMs), ...(error ? { error: errorFields(error) } : {}) },
        'pipeline end',
      ),
    ),
    events.on('breaker:open', ({ model }) => logger.warn({ model }, 'circuit open')),
    events.on('breaker:half-open', ({ model }) => logger.info({ model }, 'circuit half-open')),
    events.on('breaker:close', ({ model }) => logger.info({ model }, 'circuit closed')),
    events.on('provider:error', ({ provider, error }) =>
      logger.warn({ provider, error: errorFields(error) }, 'provider unhealthy'),
    ),
    events.on('model:register', (payload) => logger.info(payload, 'model registered')),
    events.on('model:unregister', (payload) => logger.info(payload, 'model unregistered')),
    events.on('model:load', (payload) => logger.info(payload, 'model loaded')),
    events.on('model:unload', (payload) => logger.info(payload, 'model unloaded')),
    events.on('model:error', ({ model, error }) =>
      logger.warn({ model, error: errorFields(error) }, 'model failed'),
    ),
    events.on('fusion:close', () => logger.info('closing')),
  ];
  if (options.prompts) unsubscribes.push(logPrompts(fusion, logger));
  return () => {
    for (const unsubscribe of unsubscribes.splice(0)) unsubscribe();
  };
}

function round(milliseconds: number): number {
  return Math.round(milliseconds * 10) / 10;
}
