import type { Logger } from 'pino';
import { RequestBook } from '../request-book.js';
import type { LoggedFusion } from './fusion-logger.js';

/** Characters of a streamed answer kept for its log line. */
const MAX_STREAMED_CHARS = 64 * 1024;
/** Streams gathered at once (streams of `fusion.stream` outside `handle` report no end). */
const MAX_STREAMS = 1000;

/**
 * Logs what clients send and what models answer, when the operator asked for it: the request's
 * messages (a hook that observes and changes nothing), whole answers, and streamed answers gathered
 * until their end (cut at {@link MAX_STREAMED_CHARS}). Returns the undo.
 */
export function logPrompts(fusion: LoggedFusion, logger: Logger): () => void {
  const streamed = new RequestBook<string>(MAX_STREAMS);
  const undos = [
    fusion.hook(
      'chat:request',
      (request, { requestId }) => {
        logger.info({ requestId, model: request.model, messages: request.messages }, 'prompt');
        return undefined;
      },
      { enforce: 'post' },
    ),
    fusion.hook(
      'chat:result',
      (result, { requestId }) => {
        const content = result.choices.map((choice) => choice.message.content);
        logger.info({ requestId, model: result.model, content }, 'answer');
        return undefined;
      },
      { enforce: 'post' },
    ),
    fusion.events.on('stream:delta', ({ requestId, content }) => {
      const sofar = streamed.get(requestId);
      if (sofar === undefined) streamed.open(requestId, content);
      else if (sofar.length < MAX_STREAMED_CHARS) streamed.replace(requestId, sofar + content);
    }),
    ...(['stream:end', 'stream:error'] as const).map((name) =>
      fusion.events.on(name, ({ requestId, model }) => {
        const content = streamed.close(requestId);
        if (content === undefined) return;
        logger.info({ requestId, model, content: content.slice(0, MAX_STREAMED_CHARS) }, 'answer');
      }),
    ),
  ];
  return () => {
    for (const undo of undos.splice(0)) undo();
  };
}
