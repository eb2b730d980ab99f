/**
 * The form answers are compared in by `vote`: trimmed, lowercased, whitespace collapsed, trailing
 * punctuation stripped. `"  Paris. "` and `"paris"` are the same vote.
 */
export function normalizeAnswer(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/[\s.!?,;:。！？…]+$/u, '');
}
