/**
 * Entry of the MLX worker process, forked by the provider. Exits when the provider goes away.
 * @module
 */
import type { WorkerEvent, WorkerRequest } from './worker/protocol.js';
import { runWorker } from './worker/worker-main.js';

if (!process.send) {
  console.error('The MLX worker runs as a child process of @fusionkit/mlx.');
  process.exit(1);
}
process.on('disconnect', () => process.exit(0));
runWorker({
  send: (message: WorkerEvent) => {
    if (process.connected) process.send!(message);
  },
  onMessage: (listener) => process.on('message', (message) => listener(message as WorkerRequest)),
});
