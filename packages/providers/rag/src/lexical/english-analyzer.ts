import stem from 'wink-porter2-stemmer';

/** Turns text into index terms. The same analyzer must index documents and parse queries. */
export type Analyzer = (text: string) => string[];

/** Lucene's `EnglishAnalyzer.ENGLISH_STOP_WORDS_SET`: 33 words. */
export const LUCENE_ENGLISH_STOP_WORDS: ReadonlySet<string> = new Set([
  'a',
  'an',
  'and',
  'are',
  'as',
  'at',
  'be',
  'but',
  'by',
  'for',
  'if',
  'in',
  'into',
  'is',
  'it',
  'no',
  'not',
  'of',
  'on',
  'or',
  'such',
  'that',
  'the',
  'their',
  'then',
  'there',
  'these',
  'they',
  'this',
  'to',
  'was',
  'will',
  'with',
]);

export interface EnglishAnalyzerOptions {
  /** Words dropped before stemming. @default LUCENE_ENGLISH_STOP_WORDS */
  stopWords?: ReadonlySet<string>;
  /** Apply the Porter2 (Snowball English) stemmer. @default true */
  stem?: boolean;
  /** Most distinct words whose stems are remembered; the cache is cleared when full. @default 200_000 */
  stemCacheSize?: number;
}

/** Name stored with persisted term lists, so an index is never read with another analyzer. */
export const ENGLISH_ANALYZER_ID = 'english-porter2-lucene33-v1';

const WORD = /[\p{L}\p{N}]+/gu;
const POSSESSIVE = /['’]s\b/g;

/**
 * Lucene-like English analysis: lowercase, drop possessive `'s`, split on anything that is not a
 * letter or digit, drop stop words, stem with Porter2. Stems are cached: stemming is most of the cost.
 *
 * @example createEnglishAnalyzer()("The cells' proteins were binding") // ['cell', 'protein', 'were', 'bind']
 */
export function createEnglishAnalyzer(options: EnglishAnalyzerOptions = {}): Analyzer {
  const stopWords = options.stopWords ?? LUCENE_ENGLISH_STOP_WORDS;
  const useStemmer = options.stem ?? true;
  const cacheLimit = options.stemCacheSize ?? 200_000;
  const stems = new Map<string, string>();

  const stemOf = (word: string): string => {
    let stemmed = stems.get(word);
    if (stemmed === undefined) {
      stemmed = stem(word);
      if (stems.size >= cacheLimit) stems.clear();
      stems.set(word, stemmed);
    }
    return stemmed;
  };

  return (text) => {
    const terms: string[] = [];
    const words = text.toLowerCase().replace(POSSESSIVE, '').match(WORD);
    if (!words) return terms;
    for (const word of words) {
      if (stopWords.has(word)) continue;
      terms.push(useStemmer ? stemOf(word) : word);
    }
    return terms;
  };
}
