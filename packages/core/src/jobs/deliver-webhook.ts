import type { JobWebhook, JobWebhookStatus, WebhookDelivery } from './job.js';

/** How webhooks are sent. */
export interface WebhookDeliveryOptions {
  /** @default globalThis.fetch */
  fetch: typeof fetch;
  /** Per attempt, ms. */
  timeoutMs: number;
  /** Attempts in all (network errors, 408, 429 and 5xx are retried). */
  attempts: number;
  /** Wait before the second attempt, doubled after each, ms. */
  retryDelayMs: number;
  /** Aborts the delivery (the runner closes). */
  signal: AbortSignal;
  /** The clock. @default Date.now */
  now?: () => number;
  /** Called after each attempt (to save the delivery log). */
  onAttempt?: () => void;
}

/** Attempts kept in a job's delivery log. */
const MAX_LOGGED = 20;

const encoder = new TextEncoder();

/**
 * `t=<timestamp>,v1=<hex>`: HMAC-SHA256 of `<timestamp>.<body>`, with Web Crypto (Node 20+, browsers,
 * edge runtimes). Signing the time too lets a receiver refuse a replayed old delivery.
 */
async function signature(secret: string, timestamp: number, body: string): Promise<string> {
  const key = await globalThis.crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const signed = encoder.encode(`${timestamp}.${body}`);
  const mac = new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', key, signed));
  return `t=${timestamp},v1=${Array.from(mac, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    (timer as { unref?: () => void }).unref?.();
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * POSTs `payload` as JSON to the webhook with `fetch` (no Node built-ins), retrying failures with
 * backoff, each attempt signed afresh (`x-fusion-timestamp`, `x-fusion-signature`) and logged in
 * `status.deliveries`. Never throws: the outcome is written to `status`.
 */
export async function deliverWebhook(
  webhook: JobWebhook,
  payload: { id: string },
  status: JobWebhookStatus,
  options: WebhookDeliveryOptions,
): Promise<void> {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = {
    ...webhook.headers,
    'content-type': 'application/json',
    'user-agent': 'fusionkit-jobs',
    'x-fusion-job-id': payload.id,
  };
  const now = options.now ?? Date.now;
  const deliveries = (status.deliveries ??= []);
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    if (options.signal.aborted) break;
    status.attempts = attempt;
    const startedAt = now();
    const timestamp = Math.floor(startedAt / 1000);
    headers['x-fusion-timestamp'] = String(timestamp);
    if (webhook.secret) headers['x-fusion-signature'] = await signature(webhook.secret, timestamp, body);
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const entry: WebhookDelivery = { attempt, at: timestamp, duration_ms: 0 };
    deliveries.push(entry);
    if (deliveries.length > MAX_LOGGED) deliveries.shift();
    let retry = true;
    try {
      const response = await options.fetch(webhook.url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.any([timeout, options.signal]),
      });
      await response.body?.cancel().catch(() => {});
      entry.status_code = response.status;
      if (response.ok) {
        entry.duration_ms = now() - startedAt;
        status.status = 'delivered';
        delete status.error;
        options.onAttempt?.();
        return;
      }
      status.error = `HTTP ${response.status}`;
      retry = response.status === 408 || response.status === 429 || response.status >= 500;
    } catch (error) {
      status.error = (error as Error).message || String(error);
    }
    entry.duration_ms = now() - startedAt;
    entry.error = status.error;
    options.onAttempt?.();
    if (!retry) break;
    if (attempt < options.attempts) await wait(options.retryDelayMs * 2 ** (attempt - 1), options.signal);
  }
  status.status = 'failed';
}
