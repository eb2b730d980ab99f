/**
 * Micro-benchmark of the OpenAI provider's `SseParser` (the built `@fusionkit/openai`), on the SSE
 * bodies the gateway bench's mock upstream sends (`mock-completions.mjs`, 64 `chat.completion.chunk`
 * events of ~300–380 bytes each):
 *
 * - `64 events/packet`: the 64 events in one ~24 KB packet (a fast upstream on a warm connection);
 * - `1 event/packet`: one event per packet (a model that streams token by token);
 * - `random splits`: the whole stream cut at random byte offsets (pieces of 1–1,024 bytes);
 * - `64 events/packet, non-ASCII`: the same packet with the content deltas in Chinese and emoji.
 *
 * Prints µs per packet and per event, the median of several rounds, in this process only (no
 * servers). `--baseline <module>` also measures another build of the parser (any module exporting
 * `SseParser`, e.g. the previous `sse-parser.ts` bundled with esbuild to a file outside the repo)
 * in the same rounds, alternating which goes first, checks both parse the same events and prints
 * the ratio.
 *
 *   node bench/gateway/sse-parser-micro.mjs [--baseline /tmp/sse-old.mjs] [--rounds 7] [--ms 200]
 */
import { parseArgs } from 'node:util';
import { seededRandom } from '@fusionkit/core/test';
import { SseParser } from '@fusionkit/openai';
import { STREAM_CHUNK_COUNT, streamEvents } from './mock-completions.mjs';
import { median } from './statistics.mjs';

const { values } = parseArgs({
  options: {
    baseline: { type: 'string' },
    rounds: { type: 'string', default: '7' },
    ms: { type: 'string', default: '200' },
  },
});
const rounds = Number(values.rounds);
const msPerRound = Number(values.ms);

const fields = {
  id: 'chatcmpl_1733600000123456',
  created: 1733600000,
  model: 'bench-model',
  requestId: 'req-1',
};
const events = streamEvents(fields).slice(0, STREAM_CHUNK_COUNT);
const nonAscii = events.map((event) =>
  event.replace(
    /"content": "([^"]*)"/,
    (_, text) => `"content": "${'你好，世界🚀'.repeat(Math.ceil(text.length / 8))}"`,
  ),
);

function randomSplits(bytes, seed) {
  const next = seededRandom(seed);
  const pieces = [];
  for (let start = 0; start < bytes.length; ) {
    const end = Math.min(bytes.length, start + 1 + Math.floor(next() * 1024));
    pieces.push(bytes.subarray(start, end));
    start = end;
  }
  return pieces;
}

const whole = Buffer.from(events.join(''));
const scenarios = [
  { name: '64 events/packet', packets: [whole] },
  { name: '1 event/packet', packets: events.map((event) => Buffer.from(event)) },
  { name: 'random splits', packets: randomSplits(whole, 7) },
  { name: '64 events/packet, non-ASCII', packets: [Buffer.from(nonAscii.join(''))] },
];

/** Parses one whole stream with a new parser; returns the number of events and their data length. */
function parseStream(Parser, packets) {
  const parser = new Parser();
  let count = 0;
  let chars = 0;
  for (const packet of packets) {
    for (const event of parser.push(packet)) {
      count++;
      chars += event.data.length;
    }
  }
  for (const event of parser.end()) {
    count++;
    chars += event.data.length;
  }
  return { count, chars };
}

/** µs per stream: as many streams as fit in `msPerRound`. */
function measure(Parser, packets) {
  let streams = 0;
  let sink = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(msPerRound) * 1_000_000n;
  let now = started;
  while (now < deadline) {
    for (let batch = 0; batch < 20; batch++) sink += parseStream(Parser, packets).chars;
    streams += 20;
    now = process.hrtime.bigint();
  }
  if (sink === 0) throw new Error('no events parsed');
  return Number(now - started) / 1000 / streams;
}

const parsers = [{ name: 'new', Parser: SseParser }];
if (values.baseline) {
  const { SseParser: Baseline } = await import(new URL(values.baseline, `file://${process.cwd()}/`).href);
  parsers.unshift({ name: 'old', Parser: Baseline });
}

const rows = [];
for (const scenario of scenarios) {
  const results = parsers.map((parser) => ({ ...parser, ...parseStream(parser.Parser, scenario.packets) }));
  for (const result of results) {
    if (result.count !== STREAM_CHUNK_COUNT || result.chars !== results[0].chars) {
      throw new Error(
        `${scenario.name}: ${result.name} parsed ${result.count} events, ${result.chars} chars`,
      );
    }
  }
  for (const { Parser } of parsers) measure(Parser, scenario.packets); // warm-up
  const samples = parsers.map(() => []);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? parsers.keys() : [...parsers.keys()].reverse();
    for (const index of order) samples[index].push(measure(parsers[index].Parser, scenario.packets));
  }
  const perStream = samples.map((list) => median(list));
  rows.push({ scenario, perStream });
}

const header = ['scenario', 'packets', 'bytes'];
for (const { name } of parsers) header.push(`${name} µs/packet`, `${name} µs/event`);
if (parsers.length === 2) header.push('new/old');
const lines = [header];
for (const { scenario, perStream } of rows) {
  const bytes = scenario.packets.reduce((sum, packet) => sum + packet.length, 0);
  const row = [scenario.name, String(scenario.packets.length), String(bytes)];
  for (const us of perStream) {
    row.push((us / scenario.packets.length).toFixed(2), (us / STREAM_CHUNK_COUNT).toFixed(3));
  }
  if (perStream.length === 2) row.push((perStream[1] / perStream[0]).toFixed(2));
  lines.push(row);
}
const widths = header.map((_, column) => Math.max(...lines.map((line) => line[column].length)));
for (const line of lines) console.log(line.map((cell, column) => cell.padEnd(widths[column])).join('  '));
console.log(`(median of ${rounds} rounds of ${msPerRound} ms, node ${process.version})`);
