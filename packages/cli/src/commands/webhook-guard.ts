import { FusionError, InvalidRequestError } from '@fusionkit/core';
import { checkUrl } from '@fusionkit/rag';

/** How job webhooks are kept off the server's own network. */
export interface WebhookGuard {
  /** Refuses a client's webhook URL with 400 before the job is created. */
  checkWebhookUrl(url: URL): Promise<void>;
  /** The runner's `fetch`: checks the URL again before each attempt (DNS may have changed since). */
  fetch: typeof fetch;
}

/**
 * The SSRF rules of RAG ingest (`checkUrl`: http(s) only, every address the host resolves to must be
 * public) applied to job webhooks. `FUSION_WEBHOOKS_ALLOW_PRIVATE=true` lets them reach loopback and
 * private addresses, for receivers inside a trusted network.
 */
export function webhookGuard(env: Record<string, string | undefined>): WebhookGuard {
  const allowPrivateNetwork = env.FUSION_WEBHOOKS_ALLOW_PRIVATE === 'true';
  return {
    async checkWebhookUrl(url) {
      try {
        await checkUrl(url.href, { allowPrivateNetwork });
      } catch (error) {
        const fusionError = FusionError.isInstance(error) ? error : undefined;
        throw new InvalidRequestError(`webhook.url: ${(error as Error).message}`, {
          code: fusionError?.code ?? 'url_not_allowed',
          param: 'webhook.url',
          cause: error,
        });
      }
    },
    fetch: async (input, init) => {
      await checkUrl(String(input instanceof Request ? input.url : input), { allowPrivateNetwork });
      return globalThis.fetch(input, init);
    },
  };
}
