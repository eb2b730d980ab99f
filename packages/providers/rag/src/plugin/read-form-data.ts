import { InvalidRequestError } from '@fusionkit/core';
import { readBodyBytes } from '@fusionkit/core/internal';

/**
 * A `multipart/form-data` body, read under `limit` bytes first (a `formData()` on the raw request
 * would buffer any size), then parsed by the runtime's own parser.
 */
export async function readFormData(request: Request, limit: number): Promise<FormData> {
  const contentType = request.headers.get('content-type') ?? '';
  const bytes = await readBodyBytes(request, limit);
  try {
    return await new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: { 'content-type': contentType },
    }).formData();
  } catch (error) {
    throw new InvalidRequestError('The multipart body could not be parsed.', { cause: error });
  }
}
