import type { ChatRequest, ChatResult, RetrievedChunk } from '@fusionkit/core';
import { describe, expect, it } from 'vitest';
import { parseRanking, rerankChunks } from './rerank-chunks.js';

const chunk = (id: string, text: string, score: number): RetrievedChunk => ({
  id,
  documentId: `d-${id}`,
  text,
  score,
});
const chunks = [
  chunk('a', 'apples are red', 3),
  chunk('b', 'the sky is blue', 2),
  chunk('c', 'bananas are yellow', 1),
];

function answering(text: string, seen: string[] = []) {
  return async (request: ChatRequest): Promise<ChatResult> => {
    seen.push(String(request.messages[0]?.content));
    return {
      id: 'r',
      object: 'chat.completion',
      created: 0,
      model: 'judge',
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    };
  };
}

describe('rerankChunks', () => {
  it('reorders by the judge’s JSON ranking and keeps k', async () => {
    const seen: string[] = [];
    const result = await rerankChunks('what colour is the sky?', chunks, {
      model: 'lab/judge',
      chat: answering('Sure: {"ranking": [2, 3, 1]}', seen),
      k: 2,
    });
    expect(result).toEqual({ chunks: [chunks[1], chunks[2]], reranked: true });
    expect(seen[0]).toContain('Question: what colour is the sky?');
    expect(seen[0]).toContain('[2] the sky is blue');
  });

  it('keeps the search order when the judge fails or answers nonsense', async () => {
    const failing = async () => {
      throw new Error('upstream down');
    };
    expect(await rerankChunks('q', chunks, { model: 'j', chat: failing })).toEqual({
      chunks,
      reranked: false,
    });
    expect(await rerankChunks('q', chunks, { model: 'j', chat: answering('no idea') })).toEqual({
      chunks,
      reranked: false,
    });
  });

  it('lets an abort through instead of falling back', async () => {
    const aborted = async () => {
      throw Object.assign(new Error('gone'), { code: 'aborted' });
    };
    await expect(rerankChunks('q', chunks, { model: 'j', chat: aborted })).rejects.toMatchObject({
      code: 'aborted',
    });
  });
});

describe('parseRanking', () => {
  it.each([
    ['{"ranking":[3,1,2]}', [2, 0, 1]],
    ['Passage 2 is best, then 3', [1, 2, 0]],
    ['{"ranking":[2,2,9,0]}', [1, 0, 2]],
    ['nothing here', undefined],
  ])('%j', (text, expected) => {
    expect(parseRanking(text, 3)).toEqual(expected);
  });
});
