/**
 * The compatibility suite for the APIs besides Chat Completions: Anthropic's Messages API (with the
 * official `@anthropic-ai/sdk`), legacy completions, and mlx-openai-server's audio and image routes
 * (with the official `openai` client), against every adapter (TARGETS), for a plain model and a
 * pipeline. The models are served by a real mock of mlx-openai-server that records what arrives.
 */
import Anthropic from '@anthropic-ai/sdk';
import { createFusion, type Fusion } from '@fusionkit/core';
import { createOpenAICompatible } from '@fusionkit/openai';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type MockUpstream, startMockUpstream } from '../support/mock-upstream.js';
import { type RunningTarget, TARGETS } from './compat-targets.js';

const REPLY = 'Hello from the mock upstream, streamed word by word.';
const WORDS = REPLY.split(' ').length;
const MODEL = 'lab/qwen2.5-0.5b-instruct-4bit';
const PIPELINE = 'fusion/first';
const HANGING_MODEL = 'hang/qwen2.5-0.5b-instruct-4bit';
const MAX_BODY_BYTES = 256 * 1024;
const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather of a city.',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

let upstream: MockUpstream;
beforeAll(async () => {
  upstream = await startMockUpstream({ reply: REPLY });
});
afterAll(() => upstream?.close());

function fusionFor(): Fusion {
  const provider = (id: string, behavior?: string) =>
    createOpenAICompatible({
      id,
      baseURL: upstream.baseURL,
      headers: behavior ? { 'x-mock-behavior': behavior } : {},
    });
  return createFusion({
    providers: [provider('lab'), provider('hang', 'hang')],
    pipelines: [{ name: PIPELINE, strategy: 'fallback', targets: [MODEL] }],
    maxBodyBytes: MAX_BODY_BYTES,
    healthIntervalMs: 0,
  });
}

function lastRequest(path: string) {
  return upstream.requests.filter((request) => request.path === path).at(-1)!;
}

describe.each(TARGETS)('$name', (target) => {
  let fusion: Fusion;
  let server: RunningTarget;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    fusion = fusionFor();
    await fusion.ready;
    server = await target.start(fusion);
    openai = new OpenAI({ baseURL: server.baseURL, apiKey: 'unused', maxRetries: 0 });
    // Anthropic's clients add `/v1/messages` themselves.
    anthropic = new Anthropic({
      baseURL: server.baseURL.replace(/\/v1$/, ''),
      apiKey: 'unused',
      maxRetries: 0,
    });
  });
  afterAll(async () => {
    await server?.close();
    await fusion?.close({ timeoutMs: 100 });
  });

  describe.each([MODEL, PIPELINE])('Anthropic Messages through %s', (model) => {
    it('answers, and streams the same text and usage', async () => {
      const request = { model, max_tokens: 64, messages: [{ role: 'user' as const, content: 'Hi' }] };
      const message = await anthropic.messages.create(request);
      expect(message).toMatchObject({
        type: 'message',
        model,
        content: [{ type: 'text', text: REPLY }],
        stop_reason: 'end_turn',
        usage: { input_tokens: 12, output_tokens: WORDS },
      });
      let text = '';
      const stream = anthropic.messages.stream(request);
      stream.on('text', (delta) => {
        text += delta;
      });
      const streamed = await stream.finalMessage();
      expect(text).toBe(REPLY);
      expect(streamed.content).toEqual(message.content);
      expect(streamed.usage).toMatchObject(message.usage);
      expect(streamed.stop_reason).toBe(message.stop_reason);
    });

    it('calls a tool, streamed or not', async () => {
      const request = {
        model,
        max_tokens: 64,
        tools: [WEATHER_TOOL],
        messages: [{ role: 'user' as const, content: 'Weather in Paris?' }],
      };
      const message = await anthropic.messages.create(request);
      expect(message.stop_reason).toBe('tool_use');
      expect(message.content).toEqual([
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
      ]);
      expect(lastRequest('/v1/chat/completions').body).toMatchObject({
        tools: [
          { type: 'function', function: { name: 'get_weather', parameters: WEATHER_TOOL.input_schema } },
        ],
      });
      const streamed = await anthropic.messages.stream(request).finalMessage();
      expect(streamed.content).toEqual(message.content);
      expect(streamed.stop_reason).toBe('tool_use');
      expect(streamed.usage).toMatchObject(message.usage);

      // The answer to the tool goes back as a tool message.
      await anthropic.messages.create({
        ...request,
        messages: [
          ...request.messages,
          { role: 'assistant', content: message.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_1', content: '18°C' }] },
        ],
      });
      expect(lastRequest('/v1/chat/completions').body).toMatchObject({
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'call_1', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
          },
          { role: 'tool', tool_call_id: 'call_1', content: '18°C' },
        ],
      });
    });

    it('counts tokens', async () => {
      const counted = await anthropic.messages.countTokens({
        model,
        messages: [{ role: 'user', content: 'Hi' }],
      });
      expect(counted.input_tokens).toBeGreaterThan(0);
    });
  });

  it('answers Anthropic clients’ errors in Anthropic’s shape', async () => {
    const missing = await anthropic.messages
      .create({ model: 'lab/no-such-model', max_tokens: 5, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((caught: unknown) => caught);
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError);
    expect(missing).toMatchObject({ error: { type: 'error', error: { type: 'not_found_error' } } });
    const bad = await anthropic.messages
      .create({
        model: MODEL,
        max_tokens: 5,
        messages: [
          {
            role: 'user',
            content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'x' } }],
          },
        ],
      })
      .catch((caught: unknown) => caught);
    expect(bad).toBeInstanceOf(Anthropic.BadRequestError);
    expect((bad as Error).message).toMatch(/messages\[0\]\.content\[0\]\.type/);
    const tooLarge = await anthropic.messages
      .create({
        model: MODEL,
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x'.repeat(MAX_BODY_BYTES + 1024) }],
      })
      .catch((caught: unknown) => caught);
    expect(tooLarge).toMatchObject({
      status: 413,
      error: { type: 'error', error: { type: 'request_too_large' } },
    });
  });

  describe.each([MODEL, PIPELINE])('legacy completions through %s', (model) => {
    it('answers, and streams the same text and usage', async () => {
      const completion = await openai.completions.create({ model, prompt: 'Say hello', max_tokens: 30 });
      expect(completion).toMatchObject({
        object: 'text_completion',
        model,
        choices: [{ text: REPLY, index: 0, finish_reason: 'stop' }],
        usage: { prompt_tokens: 12, completion_tokens: WORDS },
      });
      expect(lastRequest('/v1/chat/completions').body).toMatchObject({
        max_tokens: 30,
        messages: [{ role: 'user', content: 'Say hello' }],
      });
      const stream = await openai.completions.create({
        model,
        prompt: 'Say hello',
        max_tokens: 30,
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.text ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text).toBe(REPLY);
      expect(usage).toEqual(completion.usage);
    });
  });

  describe('mlx-openai-server routes, passed through', () => {
    it('transcribes audio (multipart): the upstream gets the file and its own model id', async () => {
      const audio = await toFile(Buffer.from('RIFF-fake-wave'), 'hello.wav', { type: 'audio/wav' });
      const transcription = await openai.audio.transcriptions
        .create(
          { model: MODEL, file: audio, language: 'en' },
          { headers: { 'x-request-id': 'compat-audio' } },
        )
        .withResponse();
      expect(transcription.data.text).toBe('qwen2.5-0.5b-instruct-4bit heard hello.wav: RIFF-fake-wave');
      expect(transcription.response.headers.get('x-request-id')).toBe('compat-audio');
      const arrived = lastRequest('/v1/audio/transcriptions');
      expect(arrived.headers['x-request-id']).toBe('compat-audio');
      expect(arrived.body).toMatchObject({
        model: 'qwen2.5-0.5b-instruct-4bit',
        language: 'en',
        file: { filename: 'hello.wav', type: 'audio/wav' },
      });
    });

    it('generates and edits images', async () => {
      const generated = await openai.images.generate({ model: MODEL, prompt: 'a red fox', size: '256x256' });
      expect(Buffer.from(generated.data![0]!.b64_json!, 'base64').toString()).toBe(
        'qwen2.5-0.5b-instruct-4bit: a red fox',
      );
      expect(lastRequest('/v1/images/generations').body).toEqual({
        model: 'qwen2.5-0.5b-instruct-4bit',
        prompt: 'a red fox',
        size: '256x256',
      });
      const image = await toFile(Buffer.alloc(300, 7), 'fox.png', { type: 'image/png' });
      const edited = await openai.images.edit({ model: MODEL, image, prompt: 'make it blue' });
      expect(Buffer.from(edited.data![0]!.b64_json!, 'base64').toString()).toBe(
        'qwen2.5-0.5b-instruct-4bit: make it blue over 300 bytes',
      );
      const arrived = lastRequest('/v1/images/edits').body as { image: { bytes: Buffer; filename: string } };
      expect(arrived.image.filename).toBe('fox.png');
      expect(arrived.image.bytes.equals(Buffer.alloc(300, 7))).toBe(true);
    });

    it('answers what cannot be passed through with a 4xx in OpenAI’s shape', async () => {
      const audio = () => toFile(Buffer.from('x'), 'a.wav', { type: 'audio/wav' });
      const pipeline = await openai.audio.transcriptions
        .create({ model: PIPELINE, file: await audio() })
        .catch((caught: unknown) => caught);
      expect(pipeline).toBeInstanceOf(OpenAI.BadRequestError);
      expect(pipeline).toMatchObject({ param: 'model' });
      const missing = await openai.images
        .generate({ model: 'lab/no-such-model', prompt: 'x' })
        .catch((caught: unknown) => caught);
      expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
      const big = await toFile(Buffer.alloc(MAX_BODY_BYTES + 1024), 'big.wav', { type: 'audio/wav' });
      const tooLarge = await openai.audio.transcriptions
        .create({ model: MODEL, file: big })
        .catch((caught: unknown) => caught);
      expect(tooLarge).toMatchObject({ status: 413 });
    });

    it('cancels the upstream when the client goes away', async () => {
      const before = upstream.aborts.length;
      const controller = new AbortController();
      const pending = openai.images
        .generate({ model: HANGING_MODEL, prompt: 'never' }, { signal: controller.signal })
        .catch((caught: unknown) => caught);
      await vi.waitFor(() => expect(upstream.requests.at(-1)?.path).toBe('/v1/images/generations'));
      controller.abort();
      await pending;
      await vi.waitFor(() => expect(upstream.aborts.length).toBeGreaterThan(before), { timeout: 5000 });
      expect(upstream.aborts.at(-1)?.path).toBe('/v1/images/generations');
      await vi.waitFor(() => expect(fusion.inFlight).toBe(0));
    });
  });
});
