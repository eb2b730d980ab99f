import type { ChatRequest, ChatResult, RetrievedChunk } from '@fusionkit/core';

/** Options of {@link rerankChunks}. */
export interface RerankOptions {
  /** The chat model that judges relevance (any model or pipeline of the registry). */
  model: string;
  /** Sends the judge's request; the orchestrator's `chat` or a strategy's `context.call`. */
  chat: (request: ChatRequest) => Promise<ChatResult>;
  /** How many chunks to keep after reranking. @default all */
  k?: number;
  /** Characters of each chunk shown to the judge. @default 700 */
  maxChunkChars?: number;
}

/** What a rerank did: the new order, and whether the judge's answer could be used. */
export interface RerankResult {
  chunks: RetrievedChunk[];
  /** False when the judge failed or its answer was unusable: the chunks keep their search order. */
  reranked: boolean;
}

/** The judge's prompt: numbered passages, and a JSON ranking as the only answer. */
export function rerankPrompt(
  query: string,
  chunks: readonly RetrievedChunk[],
  maxChunkChars: number,
): string {
  const passages = chunks
    .map((chunk, index) => `[${index + 1}] ${chunk.text.replace(/\s+/g, ' ').slice(0, maxChunkChars)}`)
    .join('\n\n');
  return [
    'Rank the passages by how well they help answer the question, most helpful first.',
    `Question: ${query}`,
    '',
    passages,
    '',
    `Answer with JSON only, listing every passage number once: {"ranking": [${chunks.length > 1 ? '2, 1, …' : '1'}]}`,
  ].join('\n');
}

/**
 * Reads a ranking from the judge's text: a JSON `{"ranking": [...]}` anywhere in it, else the passage
 * numbers in the order they appear. Unknown and repeated numbers are dropped; passages the judge left
 * out follow in their search order. Undefined when nothing usable is there.
 */
export function parseRanking(text: string, count: number): number[] | undefined {
  let numbers: number[] = [];
  const json = /\{[\s\S]*\}/.exec(text);
  if (json) {
    try {
      const ranking = (JSON.parse(json[0]) as { ranking?: unknown }).ranking;
      if (Array.isArray(ranking)) numbers = ranking.map(Number);
    } catch {
      // Not JSON after all: fall back to the numbers in the text.
    }
  }
  if (numbers.length === 0) numbers = [...text.matchAll(/\d+/g)].map((match) => Number(match[0]));
  const order: number[] = [];
  for (const number of numbers) {
    if (Number.isInteger(number) && number >= 1 && number <= count && !order.includes(number - 1))
      order.push(number - 1);
  }
  if (order.length === 0) return undefined;
  for (let index = 0; index < count; index++) if (!order.includes(index)) order.push(index);
  return order;
}

/**
 * Reorders retrieved chunks with a chat model as the judge (listwise: one call for all of them).
 * A failed call or an unusable answer keeps the search order; the search scores are kept either way.
 */
export async function rerankChunks(
  query: string,
  chunks: readonly RetrievedChunk[],
  options: RerankOptions,
): Promise<RerankResult> {
  const k = options.k ?? chunks.length;
  if (chunks.length <= 1) return { chunks: chunks.slice(0, k), reranked: false };
  let order: number[] | undefined;
  try {
    const result = await options.chat({
      model: options.model,
      messages: [{ role: 'user', content: rerankPrompt(query, chunks, options.maxChunkChars ?? 700) }],
      temperature: 0,
    });
    order = parseRanking(result.choices[0]?.message.content ?? '', chunks.length);
  } catch (error) {
    // A client that left must stop the request, not fall back.
    if ((error as { code?: unknown }).code === 'aborted') throw error;
    order = undefined;
  }
  if (!order) return { chunks: chunks.slice(0, k), reranked: false };
  return { chunks: order.slice(0, k).map((index) => chunks[index]!), reranked: true };
}
