/** A judge's verdict: the 1-based number of the best candidate, and why. */
export interface Judgement {
  best: number;
  reason?: string;
}

/** The balanced `{...}` spans of a text, outermost first, skipping braces inside JSON strings. */
function jsonObjects(text: string): string[] {
  const spans: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (inString) {
      if (char === '\\') index++;
      else if (char === '"') inString = false;
    } else if (char === '"' && depth > 0) inString = true;
    else if (char === '{') {
      if (depth++ === 0) start = index;
    } else if (char === '}' && depth > 0 && --depth === 0) spans.push(text.slice(start, index + 1));
  }
  return spans;
}

function candidateNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const match = /\d+/.exec(value);
    return match ? Number(match[0]) : undefined;
  }
  return undefined;
}

/**
 * Reads a judge's answer, robustly: a JSON object anywhere in the text with `best` (a number or
 * `"Candidate 2"`; fenced or surrounded by prose is fine), else "best … candidate 2" / "Candidate 2"
 * in prose (when only one candidate number is named), else a bare number. Returns `undefined` when
 * nothing names a candidate from 1 to `count`.
 *
 * @example parseJudgement('```json\n{"best": 2, "reason": "complete"}\n```', 3) // { best: 2, reason: 'complete' }
 */
export function parseJudgement(text: string, count: number): Judgement | undefined {
  const valid = (best: number | undefined) =>
    best !== undefined && Number.isInteger(best) && best >= 1 && best <= count;
  for (const span of jsonObjects(text)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(span);
    } catch {
      continue;
    }
    if (typeof parsed !== 'object' || parsed === null) continue;
    const record = parsed as Record<string, unknown>;
    const best = candidateNumber(record.best ?? record.best_candidate ?? record.winner);
    if (valid(best)) {
      return typeof record.reason === 'string' ? { best: best!, reason: record.reason } : { best: best! };
    }
  }
  const stated = /\bbest\b[^\d\n]{0,40}?(\d+)/i.exec(text);
  if (stated && valid(Number(stated[1]))) return { best: Number(stated[1]) };
  const named = new Set(
    [...text.matchAll(/\bcandidate\s*(?:#|no\.?|number)?\s*(\d+)/gi)].map((match) => Number(match[1])),
  );
  if (named.size === 1) {
    const [best] = named;
    if (valid(best)) return { best: best! };
  }
  const bare = /^\W*(\d+)\W*$/.exec(text.trim());
  if (bare && valid(Number(bare[1]))) return { best: Number(bare[1]) };
  return undefined;
}
