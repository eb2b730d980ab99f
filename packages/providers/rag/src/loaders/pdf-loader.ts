import { InvalidRequestError } from '@fusionkit/core';
import type { LoadedDocument } from './loaded-document.js';

/**
 * PDF: the text of every page (pdf.js through unpdf, loaded on first use), pages separated by a blank
 * line, with where each page starts (so chunks carry their `page`); `metadata.pages` is the page
 * count and the title comes from the document info.
 */
export async function loadPdf(bytes: Uint8Array): Promise<LoadedDocument> {
  const { extractText, getDocumentProxy, getMeta } = await import('unpdf');
  // pdf.js takes ownership of (detaches) the buffer it is given: hand it a copy.
  const data = new Uint8Array(bytes);
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    pdf = await getDocumentProxy(data, { verbosity: 0 });
  } catch (error) {
    throw new InvalidRequestError('This PDF could not be read', { code: 'invalid_document', cause: error });
  }
  try {
    const [{ text, totalPages }, meta] = await Promise.all([
      extractText(pdf, { mergePages: false }),
      getMeta(pdf),
    ]);
    const info = meta.info as Record<string, unknown>;
    const title = typeof info.Title === 'string' && info.Title.trim() ? info.Title.trim() : undefined;
    const pages = text.map((page) => page.replace(/[ \t]+\n/g, '\n').trim());
    const pageStarts: number[] = [];
    let offset = 0;
    for (const page of pages) {
      pageStarts.push(offset);
      offset += page.length + 2;
    }
    return {
      text: pages.join('\n\n'),
      format: 'pdf',
      metadata: { pages: totalPages },
      pageStarts,
      ...(title ? { title } : {}),
    };
  } finally {
    await pdf.destroy();
  }
}
