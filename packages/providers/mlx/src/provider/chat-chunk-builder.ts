/**
 * Builds the OpenAI `chat.completion.chunk`s of one streamed answer from parsed pieces: content
 * and reasoning deltas, tool calls (each whole, with its index and a fresh id), and the final
 * chunk with `finish_reason` and usage.
 */
import { randomUUID } from 'node:crypto';
import type { ChatChunk, ChunkDelta, FinishReason, Usage } from '@fusionkit/core';
import type { ParsedPiece } from '../tools/tool-call-parser.js';

export class ChatChunkBuilder {
  readonly id = `chatcmpl-${randomUUID()}`;
  readonly created = Math.floor(Date.now() / 1000);
  /** Tool calls emitted so far. */
  toolCalls = 0;

  constructor(readonly model: string) {}

  chunk(delta: ChunkDelta, finishReason: FinishReason | null = null, usage?: Usage): ChatChunk {
    const chunk: ChatChunk = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    };
    if (usage) chunk.usage = usage;
    return chunk;
  }

  /** The opening chunk, naming the role. */
  role(): ChatChunk {
    return this.chunk({ role: 'assistant', content: '' });
  }

  pieces(pieces: ParsedPiece[]): ChatChunk[] {
    return pieces.map((piece) => {
      if (piece.type === 'content') return this.chunk({ content: piece.text });
      if (piece.type === 'reasoning') return this.chunk({ reasoning_content: piece.text });
      const index = this.toolCalls++;
      return this.chunk({
        tool_calls: [
          {
            index,
            id: `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
            type: 'function',
            function: { name: piece.call.name, arguments: piece.call.arguments },
          },
        ],
      });
    });
  }
}
