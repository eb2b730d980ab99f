import Ajv from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { Sampler } from '../generation/sampler.js';
import { qwen3TokenizerFiles } from '../testing/qwen3-tokenizer-fixture.js';
import { normalRandom } from '../testing/tiny-model.js';
import { tinyTokenizerFor } from '../testing/tiny-model-families.js';
import { TextTokenizer } from '../tokenizer/text-tokenizer.js';
import { TEST_SCHEMAS } from './__fixtures__/test-schemas.js';
import { applyTokenBitmask, OutputConstraints, type OutputFormat } from './output-constraints.js';

const ajv = new Ajv({ strict: false });

function tokenizers() {
  const tiny = (architecture: 'qwen3' | 'llama' | 'mistral') => {
    const built = tinyTokenizerFor(architecture);
    const config = {
      eos_token: architecture === 'qwen3' ? '<|im_end|>' : architecture === 'llama' ? '<|eot_id|>' : '</s>',
    };
    return new TextTokenizer(built.tokenizer, config);
  };
  return { tiny };
}

/** Generates with random logits under the constraint; returns the text and whether it ended. */
async function walk(
  tokenizer: TextTokenizer,
  constraints: OutputConstraints,
  format: OutputFormat,
  eos: number,
  seed: number,
  maxSteps = 400,
): Promise<{ text: string; ended: boolean }> {
  const constraint = await constraints.start(format);
  const random = normalRandom(seed);
  const sampler = new Sampler({ temperature: 1, seed });
  const size = tokenizer.vocabSize;
  const ids: number[] = [];
  try {
    for (let step = 0; step < maxSteps; step++) {
      const logits = new Float64Array(size);
      for (let id = 0; id < size; id++) logits[id] = random() * 2;
      await constraint.mask(logits);
      const token = sampler.sample(logits, ids);
      if (token === eos) return { text: tokenizer.decode(ids), ended: true };
      constraint.accept(token);
      ids.push(token);
    }
    return { text: tokenizer.decode(ids), ended: false };
  } finally {
    constraint.dispose();
  }
}

describe('output constraints', () => {
  it('applyTokenBitmask keeps exactly the allowed ids', () => {
    const values = Array.from({ length: 70 }, () => 1);
    const mask = new Int32Array(3);
    mask[0] = 0b101;
    mask[1] = -1;
    mask[2] = 1 << 5;
    applyTokenBitmask(values, mask);
    const kept = values.flatMap((value, id) => (value === 1 ? [id] : []));
    expect(kept).toEqual([0, 2, ...Array.from({ length: 32 }, (_, i) => 32 + i), 69]);
  });

  for (const architecture of ['qwen3', 'llama', 'mistral'] as const) {
    it(`${architecture} tiny tokenizer: every walk over every schema ends with JSON its schema accepts`, async () => {
      const tokenizer = tokenizers().tiny(architecture);
      const eos = tokenizer.idOf(tokenizer.eosToken!)!;
      const constraints = new OutputConstraints({
        vocabulary: () => tokenizer.vocabulary(),
        logitsSize: tokenizer.vocabSize,
        stopTokenIds: [eos],
      });
      for (const [name, schema] of Object.entries(TEST_SCHEMAS)) {
        const validate = ajv.compile(schema);
        for (let seed = 1; seed <= 12; seed++) {
          const { text, ended } = await walk(
            tokenizer,
            constraints,
            { type: 'json_schema', schema },
            eos,
            seed,
          );
          expect(ended, `${name} seed ${seed}: ${text}`).toBe(true);
          const value = JSON.parse(text);
          expect(validate(value), `${name} seed ${seed}: ${text} ${ajv.errorsText(validate.errors)}`).toBe(
            true,
          );
        }
      }
    });
  }

  it('the Qwen3 vocabulary (151k byte-level BPE tokens, multi-character ones included) keeps to the schema', async () => {
    const files = qwen3TokenizerFiles();
    const tokenizer = new TextTokenizer(files.tokenizer, files.config);
    const eos = tokenizer.idOf('<|im_end|>')!;
    const constraints = new OutputConstraints({
      vocabulary: () => tokenizer.vocabulary(),
      logitsSize: tokenizer.vocabSize,
      stopTokenIds: [eos],
    });
    for (const name of ['order'] as const) {
      const schema = TEST_SCHEMAS[name]!;
      const validate = ajv.compile(schema);
      for (let seed = 1; seed <= 2; seed++) {
        const { text, ended } = await walk(
          tokenizer,
          constraints,
          { type: 'json_schema', schema },
          eos,
          seed,
        );
        expect(ended, text).toBe(true);
        expect(validate(JSON.parse(text)), text).toBe(true);
      }
    }
  }, 120_000);

  it('json_object: a JSON object, any properties', async () => {
    const tokenizer = tokenizers().tiny('qwen3');
    const eos = tokenizer.idOf('<|im_end|>')!;
    const constraints = new OutputConstraints({
      vocabulary: () => tokenizer.vocabulary(),
      logitsSize: tokenizer.vocabSize,
      stopTokenIds: [eos],
    });
    let ended = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const walked = await walk(tokenizer, constraints, { type: 'json_object' }, eos, seed, 2000);
      if (!walked.ended) continue;
      ended++;
      const value = JSON.parse(walked.text);
      expect(typeof value === 'object' && value !== null && !Array.isArray(value), walked.text).toBe(true);
    }
    expect(ended).toBeGreaterThan(0);
  }, 60_000);

  it('a schema the engine cannot enforce fails with a reason, and the engine keeps working', async () => {
    const tokenizer = tokenizers().tiny('qwen3');
    const eos = tokenizer.idOf('<|im_end|>')!;
    const constraints = new OutputConstraints({
      vocabulary: () => tokenizer.vocabulary(),
      logitsSize: tokenizer.vocabSize,
      stopTokenIds: [eos],
    });
    await expect(constraints.start({ type: 'json_schema', schema: { type: 'foo' } })).rejects.toMatchObject({
      code: 'unsupported_schema',
      message: expect.stringContaining('foo'),
    });
    const schema = TEST_SCHEMAS.person!;
    const { text } = await walk(tokenizer, constraints, { type: 'json_schema', schema }, eos, 5);
    expect(ajv.compile(schema)(JSON.parse(text))).toBe(true);
  }, 60_000);
});
