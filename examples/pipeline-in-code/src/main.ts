/**
 * The orchestrator as a library: no server, no HTTP API of its own. It calls an OpenAI-compatible
 * upstream (mlx-openai-server by default) for a chat answer, a streamed answer and embeddings.
 */
import { createFusion } from '@fusionkit/core';
import { createOpenAICompatible } from '@fusionkit/openai';

const fusion = createFusion({
  providers: [
    createOpenAICompatible({ id: 'lab', baseURL: process.env.UPSTREAM_URL ?? 'http://127.0.0.1:8000/v1' }),
  ],
  // A name the application chooses, resolved to a real model.
  aliases: { assistant: process.env.CHAT_MODEL ?? 'lab/qwen2.5-0.5b-instruct-4bit' },
});

// The event bus observes every call (metrics, logs and traces subscribe to it).
const calls: string[] = [];
fusion.events.on('provider:call:end', (event) => {
  calls.push(
    `${event.provider} ${event.stream ? 'streamed' : 'answered'} in ${Math.round(event.durationMs)} ms`,
  );
});

const models = await fusion.models();
console.log(`models: ${models.map((model) => model.id).join(', ')}`);

const answer = await fusion.chat({
  model: 'assistant',
  messages: [{ role: 'user', content: 'Name one use of an orchestrator.' }],
});
console.log(`chat: ${answer.choices[0]?.message.content}`);

process.stdout.write('stream: ');
for await (const chunk of fusion.stream({
  model: 'assistant',
  messages: [{ role: 'user', content: 'And another one?' }],
})) {
  process.stdout.write(chunk.choices[0]?.delta.content ?? '');
}
process.stdout.write('\n');

const embedding = await fusion.embed({
  model: process.env.EMBEDDING_MODEL ?? 'lab/bge-small-en',
  input: 'fusion',
});
console.log(`embedding: ${embedding.data[0]?.embedding.length} dimensions`);

console.log(`calls: ${calls.join('; ')}`);

await fusion.close();
