import type { Fusion } from '@fusionkit/core';
import { createExpressMiddleware } from '@fusionkit/express';
import express from 'express';

interface Todo {
  id: number;
  title: string;
}

/**
 * An Express app that existed before the orchestrator (a small todo API with its own JSON parser),
 * with the orchestrator's OpenAI-compatible API added under /ai.
 */
export function createApp(fusion: Fusion): express.Express {
  const app = express();
  // The app's own body parser runs first; the orchestrator takes the body it parsed. Its limit must
  // be at least the orchestrator's (4 MiB), or long chats are refused here with Express's own 413.
  app.use(express.json({ limit: '4mb' }));

  const todos: Todo[] = [{ id: 1, title: 'Try the orchestrator' }];
  app.get('/todos', (_req, res) => {
    res.json(todos);
  });
  app.post('/todos', (req, res) => {
    const todo = { id: todos.length + 1, title: String(req.body?.title ?? '') };
    todos.push(todo);
    res.status(201).json(todo);
  });

  // OpenAI-compatible API at /ai/v1. passThrough: paths it does not know go on to the routes below.
  app.use('/ai', createExpressMiddleware(fusion, { passThrough: true }));
  app.get('/ai/status', (_req, res) => {
    res.json({ inFlight: fusion.inFlight, queue: fusion.queueStats() });
  });

  app.use((req, res) => {
    res.status(404).json({ message: `Nothing at ${req.method} ${req.path}.` });
  });
  return app;
}
