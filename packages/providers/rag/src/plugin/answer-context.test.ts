import type { ChatRequest, RetrievedChunk } from '@fusionkit/core';
import { describe, expect, it } from 'vitest';
import { buildAnswerRequest, DEFAULT_RAG_SYSTEM_PROMPT, lastUserText, markCited } from './answer-context.js';

function chunk(id: string, text: string, extra: Partial<RetrievedChunk> = {}): RetrievedChunk {
  return { id, documentId: `doc-${id}`, text, score: 1, ...extra };
}

describe('buildAnswerRequest', () => {
  it('puts numbered sources in a system message before the conversation, and cites them in order', () => {
    const request: ChatRequest = {
      model: 'rag/docs',
      messages: [{ role: 'user', content: 'Which ports?' }],
      temperature: 0.2,
      rag: { k: 2 },
    };
    const { request: built, citations } = buildAnswerRequest(request, [
      chunk('a', 'Ports below 1024 need root.', {
        source: { uri: 'file:///docs/ports.md', title: 'Ports', span: { start: 10, end: 37 } },
        score: 0.5,
      }),
      chunk('b', 'Bananas.'),
    ]);
    expect(built.model).toBe('rag/docs');
    expect(built.temperature).toBe(0.2);
    expect(built).not.toHaveProperty('rag');
    expect(built.messages).toHaveLength(2);
    expect(built.messages[0]).toEqual({
      role: 'system',
      content: `${DEFAULT_RAG_SYSTEM_PROMPT}\n\nSources:\n\n[1] Ports — file:///docs/ports.md\nPorts below 1024 need root.\n\n[2]\nBananas.`,
    });
    expect(built.messages[1]).toEqual({ role: 'user', content: 'Which ports?' });
    expect(citations).toEqual([
      {
        index: 1,
        document_id: 'doc-a',
        chunk_id: 'a',
        uri: 'file:///docs/ports.md',
        title: 'Ports',
        score: 0.5,
        span: { start: 10, end: 37 },
        text: 'Ports below 1024 need root.',
      },
      {
        index: 2,
        document_id: 'doc-b',
        chunk_id: 'b',
        uri: null,
        title: null,
        score: 1,
        span: null,
        text: 'Bananas.',
      },
    ]);
  });

  it("merges the client's leading system message, keeps the rest, and says when nothing matched", () => {
    const { request } = buildAnswerRequest(
      {
        model: 'rag/docs',
        messages: [
          { role: 'system', content: 'Answer in French.' },
          { role: 'user', content: 'Bonjour' },
        ],
      },
      [],
      { systemPrompt: 'Use the sources.' },
    );
    expect(request.messages).toEqual([
      {
        role: 'system',
        content: 'Answer in French.\n\nUse the sources.\n\nSources:\n\nNo source matched the question.',
      },
      { role: 'user', content: 'Bonjour' },
    ]);
  });

  it('cuts the sources at maxContextChars, always keeping the first', () => {
    const { citations } = buildAnswerRequest(
      { model: 'm', messages: [{ role: 'user', content: 'q' }] },
      [chunk('a', 'a'.repeat(30)), chunk('b', 'b'.repeat(30)), chunk('c', 'c'.repeat(30))],
      { maxContextChars: 40 },
    );
    expect(citations.map((citation) => citation.text)).toEqual(['a'.repeat(30), 'b'.repeat(10)]);
    const { citations: one } = buildAnswerRequest(
      { model: 'm', messages: [{ role: 'user', content: 'q' }] },
      [chunk('a', 'a'.repeat(30))],
      { maxContextChars: 5 },
    );
    expect(one[0]!.text).toHaveLength(30);
  });
});

describe('lastUserText and markCited', () => {
  it('reads the last user message, text parts joined', () => {
    expect(
      lastUserText({
        model: 'm',
        messages: [
          { role: 'user', content: 'first' },
          { role: 'assistant', content: 'answer' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'second' },
              { type: 'image_url', image_url: { url: 'data:,' } },
              { type: 'text', text: 'part' },
            ],
          },
        ],
      }),
    ).toBe('second\npart');
    expect(lastUserText({ model: 'm', messages: [{ role: 'system', content: 'only system' }] })).toBe('');
  });

  it('marks the sources an answer cites as [n] or [n, m]', () => {
    const citations = [1, 2, 3, 4].map((index) => ({
      index,
      document_id: 'd',
      chunk_id: `c${index}`,
      uri: null,
      title: null,
      score: 1,
      span: null,
      text: '',
    }));
    const marked = markCited(citations, 'Yes [1]. Also [2, 4]. Not [x] nor 3.');
    expect(marked.map((citation) => citation.cited)).toEqual([true, true, false, true]);
  });
});
