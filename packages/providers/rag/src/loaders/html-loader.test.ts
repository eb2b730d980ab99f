import { describe, expect, it } from 'vitest';
import { MarkdownSplitter } from '../splitters/markdown-splitter.js';
import { htmlToText, loadHtml } from './html-loader.js';

const page = `<!doctype html>
<html><head><title>Release notes</title><style>body { color: red }</style>
<script>window.secret = "tracking code";</script></head>
<body>
  <header><a href="/">Home</a> <a href="/blog">Blog</a></header>
  <nav><ul><li>Menu item one</li><li>Menu item two</li></ul></nav>
  <main><article>
    <h1>Version 2.0</h1>
    <p>This release rewrites the storage engine so that every write is committed atomically, which
    means a crash can never leave half a file behind. It also adds hybrid search.</p>
    <h2>Upgrading</h2>
    <p>Stop the server, install the new package, and start it again; the data migrates on start.</p>
    <ul><li>Back up first.</li><li>Read the changelog.</li></ul>
    <script>console.log("inline")</script>
  </article></main>
  <aside>Related posts: a sidebar</aside>
  <footer>Copyright footer text</footer>
</body></html>`;

describe('htmlToText', () => {
  it('keeps the main content and drops scripts, styles, navigation, header, footer and asides', () => {
    const { text, title } = htmlToText(page);
    expect(title).toBe('Release notes');
    expect(text).toContain('every write is committed atomically');
    expect(text).toContain('install the new package');
    for (const gone of [
      'tracking code',
      'color: red',
      'Menu item',
      'Blog',
      'Copyright',
      'sidebar',
      'inline',
    ]) {
      expect(text).not.toContain(gone);
    }
  });

  it('keeps structure as Markdown-like headings and list items', () => {
    const { text } = htmlToText(page);
    expect(text).toMatch(/^## Upgrading$/m);
    expect(text).toMatch(/^- Back up first\.$/m);
  });

  it('falls back to the body of pages without an article', () => {
    const { text } = htmlToText('<html><body><nav>Skip</nav><div>Just <b>one</b> line.</div></body></html>');
    expect(text).toBe('Just one line.');
  });

  it('loads bytes as an html document', () => {
    const document = loadHtml(new TextEncoder().encode(page));
    expect(document.format).toBe('html');
    expect(document.title).toBe('Release notes');
  });

  it("keeps the page's <h1> at the top of every chunk's heading trail", async () => {
    const splitter = new MarkdownSplitter({ chunkSize: 200, chunkOverlap: 0 });
    const upgrading = (html: string) =>
      splitter.split(htmlToText(html).text).find((chunk) => chunk.text.includes('install the new package'));
    expect(htmlToText(page).text).toMatch(/^# Version 2\.0$/m);
    expect(upgrading(page)?.metadata?.headings).toEqual(['Version 2.0', 'Upgrading']);
    // An <h1> that repeats the <title> (Readability drops it) comes back too.
    const sameTitle = page.replace('<title>Release notes</title>', '<title>Version 2.0</title>');
    expect(upgrading(sameTitle)?.metadata?.headings).toEqual(['Version 2.0', 'Upgrading']);
  });
});
