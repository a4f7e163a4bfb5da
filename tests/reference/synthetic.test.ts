// Synthetic Llamas from src/gguf/synthetic.ts, written by our writer: llama.cpp loads them (weights and
// SentencePiece vocabulary, at several vocabulary sizes) and computes the same logits as the CPU reference.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeGgufFile } from "../../src/gguf/node-writer.js";
import { Random } from "../../src/gguf/random.js";
import {
  SYNTHETIC_BOS_ID,
  TOKEN_TYPE_BYTE,
  bigramSuccessors,
  syntheticLlama,
  syntheticVocab,
  type SyntheticLlamaShape,
} from "../../src/gguf/synthetic.js";
import { GgmlType } from "../../src/gguf/types.js";
import { compareLogits, describeComparison, randomSequence } from "./compare.js";
import { argmax, loadReferenceModel } from "./llama-cpu.js";
import { disposeSharedLlama, llamaCppLogits, sharedLlama } from "./llamacpp.js";

let dir = "";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "webkv-synthetic-"));
});
afterAll(async () => {
  await disposeSharedLlama();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function writeSynthetic(
  label: string,
  shape: SyntheticLlamaShape,
  weightType: GgmlType,
  seed: number,
  confidence?: number,
): Promise<string> {
  const path = join(dir, `${label}-${GgmlType[weightType]}.gguf`);
  const { metadata, tensors } = syntheticLlama(shape, { seed, weightType, confidence, name: label });
  await writeGgufFile(path, metadata, tensors);
  return path;
}

describe("seeded PRNG", () => {
  it("repeats for a seed and differs across seeds and keys", () => {
    const a = new Random(42);
    const b = new Random(42);
    const first = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(first);
    expect(Array.from({ length: 8 }, () => new Random(43).nextU32())).not.toEqual(first);
    expect(Random.forKey(42, "x").normals(4)).toEqual(Random.forKey(42, "x").normals(4));
    expect(Random.forKey(42, "x").normals(4)).not.toEqual(Random.forKey(42, "y").normals(4));
  });

  it("gives uniform floats in [0, 1) and standard normals", () => {
    const random = new Random(7);
    let min = 1, max = 0, sum = 0, sumSquares = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const u = random.nextFloat();
      min = Math.min(min, u);
      max = Math.max(max, u);
      const z = random.nextNormal();
      sum += z;
      sumSquares += z * z;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(sum / n)).toBeLessThan(0.01);
    expect(Math.abs(sumSquares / n - 1)).toBeLessThan(0.02);
  });
});

describe("synthetic vocabulary", () => {
  for (const size of [300, 512, 1000, 32000, 49152]) {
    it(`${size} tokens: specials, 256 byte tokens, then unique pieces`, () => {
      const vocab = syntheticVocab(size);
      expect(vocab.tokens.length).toBe(size);
      expect(new Set(vocab.tokens).size).toBe(size);
      expect(vocab.tokens.slice(0, 4)).toEqual(["<unk>", "<s>", "</s>", "<0x00>"]);
      expect(vocab.tokens[258]).toBe("<0xFF>");
      expect(vocab.types.slice(3, 259).every((t) => t === TOKEN_TYPE_BYTE)).toBe(true);
      expect(vocab.scores.length).toBe(size);
    });
  }

  it("refuses sizes with no room for pieces", () => {
    expect(() => syntheticVocab(299)).toThrow(/at least 300/);
  });
});

// Teacher-forced over 4 × 128 = 512 positions of random ids.
const POSITIONS_PER_SEQUENCE = 128;
function sequencesFor(vocab: number, seed: number): number[][] {
  return [0, 1, 2, 3].map((i) => randomSequence(SYNTHETIC_BOS_ID, POSITIONS_PER_SEQUENCE, 3, vocab, seed * 10 + i));
}

// Bounds on max |Δlogit|, a few times the measured values (logit std ≈ 4.6 for A, 4.1 for B).
const cases: { label: string; shape: SyntheticLlamaShape; types: [GgmlType, number][] }[] = [
  {
    label: "A", // grouped-query attention (4 query heads per KV head), untied head with the bigram
    shape: { dim: 128, layers: 4, heads: 8, kvHeads: 2, ffn: 384, vocab: 1000, contextLength: 512 },
    types: [[GgmlType.F32, 1e-4], [GgmlType.Q8_0, 0.6], [GgmlType.Q4_0, 0.6]], // measured 7.6e-6, 0.19, 0.18
  },
  {
    label: "B", // multi-head attention, tied output, large RoPE base
    shape: { dim: 64, layers: 2, heads: 4, kvHeads: 4, ffn: 160, vocab: 512, contextLength: 256, tiedOutput: true, ropeBase: 500000 },
    types: [[GgmlType.F16, 0.1], [GgmlType.Q8_0, 0.6]], // measured 1.4e-2, 0.24
  },
];

describe("synthetic Llamas: llama.cpp vs the CPU reference", () => {
  for (const { label, shape, types } of cases) {
    for (const [type, maxAbsDiff] of types) {
      it(`${label} ${GgmlType[type]}: top-1 agreement ≥ 99% over 512 positions, max |Δlogit| < ${maxAbsDiff}`, async () => {
        const path = await writeSynthetic(`synthetic-${label}`, shape, type, 42);
        const sequences = sequencesFor(shape.vocab, 5);
        const model = await loadReferenceModel(path);
        expect(model.config).toMatchObject({
          dim: shape.dim, nLayers: shape.layers, nHeads: shape.heads, nKvHeads: shape.kvHeads, ffnDim: shape.ffn,
          vocabSize: shape.vocab, tiedOutput: shape.tiedOutput ?? false, ropeBase: shape.ropeBase ?? 10000,
        });
        const ours = sequences.map((ids) => model.logitsForSequence(ids));
        const theirs = await llamaCppLogits(path, sequences);
        const result = compareLogits(ours, theirs);
        console.log(describeComparison(`synthetic ${label} ${GgmlType[type]}`, result));
        expect(result.positions).toBe(512);
        expect(result.top1Agreement).toBeGreaterThanOrEqual(0.99);
        expect(result.maxAbsDiff).toBeLessThan(maxAbsDiff);
      });
    }
  }

  it("A without the bigram (confidence 0): F32 still agrees on every top-1", async () => {
    const shape = cases[0]!.shape;
    const path = await writeSynthetic("synthetic-A-plain", shape, GgmlType.F32, 42, 0);
    const sequences = sequencesFor(shape.vocab, 6);
    const model = await loadReferenceModel(path);
    const ours = sequences.map((ids) => model.logitsForSequence(ids));
    const result = compareLogits(ours, await llamaCppLogits(path, sequences));
    console.log(describeComparison("synthetic A F32, confidence 0", result));
    expect(result.top1Agreement).toBe(1);
    expect(result.maxAbsDiff).toBeLessThan(1e-4);
    // and its top-1 depends on context: the bigram successor wins only by chance
    const next = bigramSuccessors(shape.vocab, 42);
    const bigramWins = sequences.flatMap((ids, s) => ids.filter((id, p) => argmax(ours[s]![p]!) === next[id])).length;
    expect(bigramWins).toBeLessThan(20);
  });

  for (const vocab of [32000, 49152]) {
    it(`a ${vocab}-token vocabulary loads in llama.cpp, tokenizes, and gives the reference's logits`, async () => {
      const shape: SyntheticLlamaShape = { dim: 32, layers: 1, heads: 4, kvHeads: 2, ffn: 64, vocab, contextLength: 256 };
      const path = await writeSynthetic(`synthetic-vocab${vocab}`, shape, GgmlType.F32, 3);
      const llama = await sharedLlama();
      const model = await llama.loadModel({ modelPath: path });
      try {
        const text = "hello world, this is a test";
        const tokens = model.tokenize(text);
        expect(tokens.length).toBeGreaterThan(0);
        expect(tokens.every((t) => t > 2 && t < vocab)).toBe(true);
        expect(model.detokenize(tokens).trim()).toBe(text);
        // bytes outside the pieces' alphabet fall back to byte tokens: é is C3 A9
        expect(model.tokenize("é").slice(-2)).toEqual([3 + 0xc3, 3 + 0xa9]);
      } finally {
        await model.dispose();
      }
      const sequences = [randomSequence(SYNTHETIC_BOS_ID, 48, 3, vocab, 9)];
      const reference = await loadReferenceModel(path);
      const result = compareLogits(sequences.map((ids) => reference.logitsForSequence(ids)), await llamaCppLogits(path, sequences));
      console.log(describeComparison(`synthetic vocab ${vocab} F32`, result));
      expect(result.top1Agreement).toBe(1);
      expect(result.maxAbsDiff).toBeLessThan(1e-4);
    });
  }
});
