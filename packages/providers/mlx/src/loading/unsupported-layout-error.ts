/**
 * A model directory this runtime cannot serve (unknown architecture, missing or misshapen tensors,
 * unsupported quantization). Raised before anything is loaded; the provider turns it into a 400
 * `unsupported` error whose message says what is wrong.
 */
export class UnsupportedLayoutError extends Error {
  readonly code = 'unsupported_model_layout';

  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedLayoutError';
  }
}
