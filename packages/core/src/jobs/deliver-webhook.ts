import type { JobWebhook, JobWebhookStatus } from './job.js';

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
}

const encoder = new TextEncoder();

/** `sha256=<hex>` HMAC of the body, with Web Crypto (Node 20+, browsers, edge runtimes). */
async function signature(secret: string, body: string): Promise<string> {
  const key = await globalThis.crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', key, encoder.encode(body)));
  return `sha256=${Array.from(mac, (byte) => byte.toString(16).padStart(2, '0')).join('')}`;
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
 * backoff. Never throws: the outcome is written to `status`.
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
  if (webhook.secret) headers['x-fusion-signature'] = await signature(webhook.secret, body);
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    if (options.signal.aborted) break;
    status.attempts = attempt;
    const timeout = AbortSignal.timeout(options.timeoutMs);
    try {
      const response = await options.fetch(webhook.url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.any([timeout, options.signal]),
      });
      await response.body?.cancel().catch(() => {});
      if (response.ok) {
        status.status = 'delivered';
        delete status.error;
        return;
      }
      status.error = `HTTP ${response.status}`;
      if (!(response.status === 408 || response.status === 429 || response.status >= 500)) break;
    } catch (error) {
      status.error = (error as Error).message || String(error);
    }
    if (attempt < options.attempts) await wait(options.retryDelayMs * 2 ** (attempt - 1), options.signal);
  }
  status.status = 'failed';
}
