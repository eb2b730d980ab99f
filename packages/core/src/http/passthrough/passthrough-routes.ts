import { InvalidRequestError } from '../../errors/invalid-request-error.js';
import type { Fusion } from '../../fusion/fusion.js';
import type { RouteHandler } from '../../spec/plugin/v1/plugin-v1.js';
import { readBodyBytes, readJsonBody } from '../read-json-body.js';
import type { RouteEntry } from '../route-table.js';

const MULTIPART = 'multipart/form-data';

/** The form of a multipart body read under the orchestrator's limit; a malformed one is a 400. */
async function readForm(request: Request, limit: number): Promise<FormData> {
  const type = request.headers.get('content-type') ?? '';
  if (!type.toLowerCase().startsWith(MULTIPART)) {
    throw new InvalidRequestError(
      `Send the request as \`${MULTIPART}\`, with the file and a \`model\` field.`,
    );
  }
  const bytes = await readBodyBytes(request, limit);
  try {
    // The platform's own multipart parser (undici's in Node), on bytes already bounded by the limit.
    return await new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: { 'content-type': type },
    }).formData();
  } catch (error) {
    throw new InvalidRequestError('The multipart body could not be parsed.', { cause: error });
  }
}

function modelOf(value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidRequestError("'model' is required: name the model that serves this route.", {
      param: 'model',
    });
  }
  return value;
}

/**
 * mlx-openai-server's other routes, passed to the upstream that serves the requested model:
 * `/v1/audio/transcriptions` and `/v1/images/edits` (multipart) and `/v1/images/generations` (JSON).
 * The body is read under the same limit as chat and sent on unchanged but for `model`, through the
 * queue, with the request id and the client's abort, and the upstream's answer is returned as it is.
 */
export function passthroughRoutes(fusion: Fusion): RouteEntry[] {
  const multipart =
    (path: string, fileFields: readonly string[]): RouteHandler =>
    async (request, { requestId, signal, apiKey }) => {
      const form = await readForm(request, fusion.maxBodyBytes);
      const model = modelOf(form.get('model'));
      // Checked here, as the upstream would: a form without its file is the client's mistake (400),
      // not an upstream failure (502).
      if (!fileFields.some((name) => form.getAll(name).some((value) => typeof value !== 'string'))) {
        throw new InvalidRequestError(`'${fileFields[0]}' is required: attach the file as a form field.`, {
          param: fileFields[0]!,
        });
      }
      return fusion.forward({ model, path, body: form }, { requestId, signal, apiKeyId: apiKey?.id });
    };

  const json =
    (path: string, required?: string): RouteHandler =>
    async (request, { requestId, signal, apiKey }) => {
      const body = await readJsonBody(request, fusion.maxBodyBytes);
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new InvalidRequestError('The request body must be a JSON object.');
      }
      const fields = body as Record<string, unknown>;
      if (required !== undefined && (typeof fields[required] !== 'string' || fields[required] === '')) {
        throw new InvalidRequestError(`'${required}' is required and must be a non-empty string.`, {
          param: required,
        });
      }
      return fusion.forward(
        { model: modelOf(fields.model), path, body: fields },
        { requestId, signal, apiKeyId: apiKey?.id },
      );
    };

  return [
    [
      'POST',
      '/v1/audio/transcriptions',
      multipart('/audio/transcriptions', ['file']),
      { accepts: [MULTIPART] },
    ],
    ['POST', '/v1/images/edits', multipart('/images/edits', ['image', 'image[]']), { accepts: [MULTIPART] }],
    ['POST', '/v1/images/generations', json('/images/generations', 'prompt')],
  ];
}
