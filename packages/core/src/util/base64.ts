/**
 * A vector as OpenAI's base64 embedding: little-endian float32 bytes, base64-encoded. Written with
 * `btoa` so the core needs no Node built-ins.
 */
export function float32Base64(vector: readonly number[]): string {
  const floats = new Float32Array(vector);
  const bytes = new Uint8Array(floats.buffer);
  let binary = '';
  const step = 0x8000;
  for (let offset = 0; offset < bytes.length; offset += step) {
    binary += String.fromCharCode(...bytes.subarray(offset, offset + step));
  }
  return btoa(binary);
}
