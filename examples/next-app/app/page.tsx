'use client';

import { type FormEvent, useEffect, useState } from 'react';

type Status = 'idle' | 'streaming' | 'done' | 'error';

/** The text deltas of an OpenAI chat completion stream, as they arrive. */
async function* streamedText(response: Response): AsyncGenerator<string> {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  while (true) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
      const chunk = JSON.parse(event.slice(6));
      if (chunk.error) throw new Error(chunk.error.message);
      const content = chunk.choices?.[0]?.delta?.content;
      if (content) yield content;
    }
  }
}

export default function ChatPage() {
  const [models, setModels] = useState<string[]>([]);
  const [model, setModel] = useState('');
  const [question, setQuestion] = useState('Say hello.');
  const [answer, setAnswer] = useState('');
  const [chunks, setChunks] = useState(0);
  const [status, setStatus] = useState<Status>('idle');

  useEffect(() => {
    fetch('/api/v1/models')
      .then((response) => response.json())
      .then(({ data }: { data: { id: string; type: string }[] }) => {
        const chat = data.filter((entry) => entry.type === 'chat').map((entry) => entry.id);
        setModels(chat);
        setModel(chat[0] ?? '');
      })
      .catch(() => setStatus('error'));
  }, []);

  async function ask(event: FormEvent) {
    event.preventDefault();
    setAnswer('');
    setChunks(0);
    setStatus('streaming');
    try {
      const response = await fetch('/api/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: question }] }),
      });
      if (!response.ok) throw new Error((await response.json()).error?.message ?? response.statusText);
      for await (const text of streamedText(response)) {
        setAnswer((previous) => previous + text);
        setChunks((count) => count + 1);
      }
      setStatus('done');
    } catch (error) {
      setAnswer(String(error));
      setStatus('error');
    }
  }

  return (
    <main>
      <h1>Ask the orchestrator</h1>
      <form onSubmit={ask} style={{ display: 'flex', gap: '0.5rem' }}>
        <select aria-label="Model" value={model} onChange={(event) => setModel(event.target.value)}>
          {models.map((id) => (
            <option key={id}>{id}</option>
          ))}
        </select>
        <input
          aria-label="Question"
          value={question}
          onChange={(event) => setQuestion(event.target.value)}
          style={{ flex: 1 }}
        />
        <button type="submit" disabled={!model || status === 'streaming'}>
          Ask
        </button>
      </form>
      <p id="answer" data-status={status} data-chunks={chunks} style={{ whiteSpace: 'pre-wrap' }}>
        {answer}
      </p>
      <small id="status">
        {status} · {chunks} chunks
      </small>
    </main>
  );
}
