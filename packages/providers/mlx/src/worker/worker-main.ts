/**
 * The MLX worker: a child process that loads models and runs them, answering the provider over
 * IPC. Everything that may abort natively (MLX evaluation) happens here, never in the orchestrator.
 */
import { readModelManifest } from '../loading/model-manifest.js';
import { UnsupportedLayoutError } from '../loading/unsupported-layout-error.js';
import { mlx } from '../mlx/mlx-binding.js';
import { ChatModelHost } from './chat-model-host.js';
import { EmbeddingModelHost } from './embedding-model-host.js';
import type { MemoryReport, WorkerEvent, WorkerRequest } from './protocol.js';
import { WorkerError } from './worker-error.js';

/** The IPC side of a forked process. */
export interface WorkerChannel {
  send(message: WorkerEvent): void;
  onMessage(listener: (message: WorkerRequest) => void): void;
}

/** A float16 matmul is not implemented on CPU: MLX throws during evaluation, a native abort. */
function crashNatively(): void {
  const mx = mlx();
  const half = mx.ones([4, 4], mx.float16);
  mx.eval(mx.matmul(half, half));
}

export function runWorker(channel: WorkerChannel): void {
  const models = new Map<string, ChatModelHost | EmbeddingModelHost>();
  const running = new Set<number>();
  const cancelled = new Set<number>();
  const testHooks = process.env.FUSIONKIT_MLX_TEST_HOOKS === '1';

  const fail = (id: number, error: unknown) => {
    if (error instanceof WorkerError) {
      channel.send({ type: 'error', id, code: error.code, message: error.message, status: error.status });
    } else if (error instanceof UnsupportedLayoutError) {
      channel.send({ type: 'error', id, code: error.code, message: error.message, status: 400 });
    } else {
      const message = error instanceof Error ? error.message : String(error);
      channel.send({ type: 'error', id, code: 'worker_error', message, status: 500 });
    }
  };

  const model = <T extends ChatModelHost | EmbeddingModelHost>(
    name: string,
    kind: new (...args: never[]) => T,
  ): T => {
    const host = models.get(name);
    if (!host) throw new WorkerError('model_not_loaded', `Model '${name}' is not loaded in the worker.`, 409);
    if (!(host instanceof kind)) {
      throw new WorkerError('unsupported', `Model '${name}' cannot serve this kind of request.`, 400);
    }
    return host;
  };

  const handle = async (request: WorkerRequest): Promise<unknown> => {
    switch (request.type) {
      case 'load': {
        const existing = models.get(request.model);
        if (existing) return existing.info;
        const manifest = readModelManifest(request.path);
        if (request.crash && testHooks) crashNatively();
        const host =
          manifest.config.kind === 'causal'
            ? new ChatModelHost(manifest, request.options)
            : new EmbeddingModelHost(manifest);
        models.set(request.model, host);
        return host.info;
      }
      case 'unload':
        models.delete(request.model);
        return null;
      case 'generate': {
        const host = model(request.model, ChatModelHost);
        return host.generate(
          {
            messages: request.messages,
            ...(request.tools ? { tools: request.tools } : {}),
            ...(request.templateKwargs ? { templateKwargs: request.templateKwargs } : {}),
            parameters: request.parameters,
          },
          (text) => channel.send({ type: 'delta', id: request.id, text }),
          () => cancelled.has(request.id),
        );
      }
      case 'embed':
        return model(request.model, EmbeddingModelHost).embed(request.input, () => cancelled.has(request.id));
      case 'memory': {
        const report: MemoryReport = {
          rss: process.memoryUsage.rss(),
          heapUsed: process.memoryUsage().heapUsed,
          cpu: process.cpuUsage(),
          models: {},
        };
        for (const [name, host] of models) {
          report.models[name] = { weightBytes: host.info.weightBytes, kvCacheBytes: host.kvCacheBytes };
        }
        return report;
      }
      case 'debug':
        if (!testHooks) throw new WorkerError('unsupported', 'Test hooks are disabled in this worker.');
        if (request.action === 'abort') process.abort();
        if (request.action === 'exit') process.exit(70);
        crashNatively();
        return null;
      case 'cancel':
        return null;
    }
  };

  channel.onMessage((request) => {
    if (request.type === 'cancel') {
      if (running.has(request.id)) cancelled.add(request.id);
      return;
    }
    running.add(request.id);
    handle(request)
      .then(
        (value) => channel.send({ type: 'result', id: request.id, value }),
        (error: unknown) => fail(request.id, error),
      )
      .finally(() => {
        running.delete(request.id);
        cancelled.delete(request.id);
      });
  });
  // Test hook: a worker that dies while starting, before it can take a command.
  if (testHooks && process.env.FUSIONKIT_MLX_TEST_EXIT_AT_START === '1') process.exit(71);
  channel.send({ type: 'ready', pid: process.pid });
}
