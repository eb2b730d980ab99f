/** Formats the loaders understand. */
export type DocumentFormat = 'text' | 'markdown' | 'html' | 'pdf' | 'json' | 'jsonl';

/** The text of a document, as a loader extracted it. */
export interface LoadedDocument {
  /** Plain text (Markdown stays Markdown so the Markdown splitter can use its headings). */
  text: string;
  format: DocumentFormat;
  /** From the document itself: `<title>`, front matter, the first `#` heading, PDF info. */
  title?: string;
  /** Id given by a JSON record's id field; other formats leave it to the source. */
  recordId?: string;
  /** What the loader learned: front matter fields, `pages` of a PDF, a JSON record's other fields. */
  metadata: Record<string, unknown>;
  /** For a paged document (PDF): the offset in `text` where each page starts, first page first. */
  pageStarts?: number[];
}

/** How JSON and JSON-lines records become documents. */
export interface JsonLoaderOptions {
  /** Field (dotted path) holding the text; several are joined with a blank line. @default 'text' */
  textField?: string | string[];
  /** Field holding the record id. @default the first of 'id', '_id' present */
  idField?: string;
  /** Field holding the title. @default 'title' */
  titleField?: string;
  /** Fields kept as metadata. @default every other top-level field */
  metadataFields?: string[];
}

/** What a loader may be told about its input. */
export interface LoadOptions {
  /** Forces a format; otherwise detected from the MIME type, then the URI's extension. */
  format?: DocumentFormat;
  /** @example 'https://example.com/guide.html' */
  uri?: string;
  /** @example 'text/html; charset=utf-8' */
  mimeType?: string;
  json?: JsonLoaderOptions;
}
