/**
 * Unloaded measurements: N requests one after another on a single keep-alive connection
 * (`node:http` directly, no load generator in the way), after a few discarded warm-up requests.
 *
 * Bounded by the count, a per-request timeout and a wall-clock deadline for the whole probe; it
 * stops at the first failure and says so in the result rather than measuring an error path.
 */
import { Agent } from 'node:http';
import { httpOnce } from './http-once.mjs';
import { percentile } from './statistics.mjs';

const WARMUP_REQUESTS = 20;
const STREAM_END = /data: ?\[DONE\]\s*$/;

/**
 * @param {object} options
 * @param {string} options.url
 * @param {string} options.body
 * @param {boolean} options.stream whether the body asks for a stream (then it must end in `[DONE]`)
 * @param {number} options.count measured requests
 * @param {number} [options.deadlineMs] wall-clock limit for warm-up and measured requests together
 */
export async function probeSequential({ url, body, stream, count, deadlineMs = 60_000 }) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const deadline = Date.now() + deadlineMs;
  const firstByte = [];
  const lastByte = [];
  let failure;
  try {
    for (let index = 0; index < WARMUP_REQUESTS + count; index++) {
      if (Date.now() > deadline) {
        failure = `stopped at the ${deadlineMs} ms deadline after ${lastByte.length} requests`;
        break;
      }
      const answer = await httpOnce({ url, body, agent });
      if (answer.status !== 200 || (stream && !STREAM_END.test(answer.body))) {
        failure = `request ${index + 1} answered ${answer.status}: ${JSON.stringify(answer.body)}`;
        break;
      }
      if (index < WARMUP_REQUESTS) continue;
      firstByte.push(answer.firstByteMs);
      lastByte.push(answer.lastByteMs);
    }
  } catch (error) {
    failure = error.message;
  } finally {
    agent.destroy();
  }
  return {
    requests: lastByte.length,
    failure,
    p50Ms: percentile(lastByte, 50),
    p99Ms: percentile(lastByte, 99),
    firstByteP50Ms: percentile(firstByte, 50),
    firstByteP99Ms: percentile(firstByte, 99),
  };
}
