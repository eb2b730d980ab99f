import type { LoadedDocument } from './loaded-document.js';
import { decodeText } from './text-loader.js';

const FRONT_MATTER = /^---[ \t]*\n([\s\S]*?)\n---[ \t]*(?:\n|$)/;
const FIRST_HEADING = /^ {0,3}#[ \t]+(.+?)[ \t#]*$/m;

/** A YAML scalar or flow list, read the simple way: strings, numbers, booleans, `[a, b]`. */
function scalar(raw: string): unknown {
  const value = raw.trim();
  if (/^\[.*\]$/.test(value)) {
    const inner = value.slice(1, -1).trim();
    return inner ? inner.split(',').map((item) => scalar(item)) : [];
  }
  if (/^(["']).*\1$/.test(value)) return value.slice(1, -1);
  if (value === 'true' || value === 'false') return value === 'true';
  if (value === 'null' || value === '~' || value === '') return null;
  if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
  return value;
}

/** `key: value` lines of a front matter block (nested YAML is kept out, not guessed at). */
function parseFrontMatter(block: string): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const line of block.split('\n')) {
    const match = /^([A-Za-z_][\w-]*)[ \t]*:(.*)$/.exec(line);
    if (match) fields[match[1]!] = scalar(match[2]!);
  }
  return fields;
}

/**
 * Markdown: the text stays Markdown (the Markdown splitter reads its headings). A leading `---` front
 * matter block becomes metadata; the title is front matter's `title` or the first `#` heading.
 */
export function loadMarkdown(bytes: Uint8Array): LoadedDocument {
  let text = decodeText(bytes);
  let metadata: Record<string, unknown> = {};
  const frontMatter = FRONT_MATTER.exec(text);
  if (frontMatter) {
    metadata = parseFrontMatter(frontMatter[1]!);
    text = text.slice(frontMatter[0].length);
  }
  const title = typeof metadata.title === 'string' ? metadata.title : FIRST_HEADING.exec(text)?.[1];
  return { text, format: 'markdown', metadata, ...(title ? { title } : {}) };
}
