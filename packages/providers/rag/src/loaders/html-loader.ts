import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import type { LoadedDocument } from './loaded-document.js';
import { decodeText } from './text-loader.js';

/** Never content: code, styling, chrome and controls. */
const NOT_CONTENT = [
  'script',
  'style',
  'noscript',
  'template',
  'nav',
  'header',
  'footer',
  'aside',
  'form',
  'iframe',
  'svg',
  'canvas',
  'button',
  'select',
  'textarea',
  'object',
  'embed',
  '[role="navigation"]',
  '[role="banner"]',
  '[role="contentinfo"]',
  '[aria-hidden="true"]',
  '[hidden]',
].join(', ');

const BLOCKS = new Set([
  'ADDRESS',
  'ARTICLE',
  'BLOCKQUOTE',
  'DD',
  'DIV',
  'DL',
  'DT',
  'FIGCAPTION',
  'FIGURE',
  'HR',
  'MAIN',
  'OL',
  'P',
  'SECTION',
  'TABLE',
  'TBODY',
  'THEAD',
  'TR',
  'UL',
]);

interface NodeLike {
  nodeType: number;
  tagName?: string;
  textContent: string | null;
  childNodes: ArrayLike<NodeLike>;
}

/** Text of a DOM subtree with its structure kept as Markdown-ish breaks: `#` headings, `- ` items. */
function textOf(node: NodeLike, out: string[]): void {
  for (let index = 0; index < node.childNodes.length; index++) {
    const child = node.childNodes[index]!;
    if (child.nodeType === 3) {
      out.push((child.textContent ?? '').replace(/\s+/g, ' '));
      continue;
    }
    if (child.nodeType !== 1) continue;
    const tag = child.tagName!.toUpperCase();
    const heading = /^H([1-6])$/.exec(tag);
    if (tag === 'BR') out.push('\n');
    else if (tag === 'PRE') out.push(`\n\n${child.textContent ?? ''}\n\n`);
    else if (heading) {
      out.push(`\n\n${'#'.repeat(Number(heading[1]))} `);
      textOf(child, out);
      out.push('\n\n');
    } else if (tag === 'LI') {
      out.push('\n- ');
      textOf(child, out);
      out.push('\n');
    } else if (tag === 'TD' || tag === 'TH') {
      textOf(child, out);
      out.push(' | ');
    } else if (BLOCKS.has(tag)) {
      out.push('\n\n');
      textOf(child, out);
      out.push('\n\n');
    } else {
      textOf(child, out);
    }
  }
}

function normalise(text: string): string {
  return text
    .split('\n')
    .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * Readability turns an article's `<h1>` into `<h2>`, and drops the one that repeats the page title:
 * the page's `<h1>`s come back as `#` lines (the first on top when it was dropped), so the heading
 * trail of every chunk starts with the page's own heading.
 */
function restoreTopHeadings(text: string, h1s: readonly string[]): string {
  if (h1s.length === 0) return text;
  const top = new Set(h1s);
  let found = false;
  const lines = text.split('\n').map((line) => {
    const heading = /^#{1,2} (.*)$/.exec(line);
    if (!heading || !top.has(heading[1]!.trim())) return line;
    found = true;
    return `# ${heading[1]!.trim()}`;
  });
  const restored = lines.join('\n');
  return found ? restored : `# ${h1s[0]}\n\n${restored}`;
}

/** The readable text of an HTML string (no loader wrapping); exported for tests and custom loaders. */
export function htmlToText(input: string): { text: string; title?: string } {
  // linkedom needs a whole document: a fragment without <html>/<body> would lose its text.
  const html = /<(html|body)[\s>]/i.test(input) ? input : `<!doctype html><html><body>${input}</body></html>`;
  const { document } = parseHTML(html);
  const title = document.querySelector('title')?.textContent?.trim() || undefined;
  for (const element of [...document.querySelectorAll(NOT_CONTENT)]) element.remove();
  const h1s = [...document.querySelectorAll('h1')]
    .map((element) => (element.textContent ?? '').replace(/\s+/g, ' ').trim())
    .filter(Boolean);
  // Readability finds the main article; it gives up (null) on pages without one, like a bare list.
  const article = new Readability(document as unknown as Document, { keepClasses: false }).parse();
  let root: NodeLike | undefined;
  if (article?.content && (article.textContent ?? '').trim().length > 0) {
    root = parseHTML(`<!doctype html><html><body>${article.content}</body></html>`).document.body as NodeLike;
  } else {
    const reparsed = parseHTML(html).document;
    for (const element of [...reparsed.querySelectorAll(NOT_CONTENT)]) element.remove();
    root = (reparsed.querySelector('main, article, [role="main"]') ?? reparsed.body ?? undefined) as
      | NodeLike
      | undefined;
  }
  const out: string[] = [];
  if (root) textOf(root, out);
  const articleTitle = article?.title?.trim() || undefined;
  const text = normalise(out.join(''));
  return {
    text: article ? restoreTopHeadings(text, h1s) : text,
    ...((title ?? articleTitle) ? { title: title ?? articleTitle } : {}),
  };
}

/**
 * HTML: the main content only (Readability's article, else `<main>`/`<article>`/`<body>`), without
 * scripts, styles, navigation, headers, footers or forms. Headings become `#` lines and list items
 * `- ` lines, so the Markdown splitter can follow the page's structure.
 */
export function loadHtml(bytes: Uint8Array): LoadedDocument {
  const { text, title } = htmlToText(decodeText(bytes));
  return { text, format: 'html', metadata: {}, ...(title ? { title } : {}) };
}
