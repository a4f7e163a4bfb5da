// estimate(): the parts add up, each non-KV term follows its documented formula, the max-context search is
// exact, and impossible settings are refused with a message naming them.

import { describe, expect, it } from "vitest";
import {
  bitsPerWeight,
  estimate,
  EstimatorError,
  GiB,
  largestFitting,
  matrixBytes,
  MiB,
  parseByteSize,
  preset,
  weightFormat,
  WEIGHT_FORMATS,
} from "../../src/estimator/index.js";

describe("weight formats", () => {
  it("bits per weight follow from the block sizes", () => {
    const expected: Record<string, number> = {
      f32: 32, f16: 16, bf16: 16, q8_0: 8.5, q4_0: 4.5, q4_1: 5, q5_0: 5.5, q5_1: 6,
      q2_k: 2.625, q3_k: 3.4375, q4_k: 4.5, q5_k: 5.5, q6_k: 6.5625, q8_k: 9.125, iq4_nl: 4.5, iq4_xs: 4.25,
      fp8: 8, int8: 8, "int4-g128": 4.125, "int4-g128-zp": 4.25, mxfp4: 4.25, nvfp4: 4.5,
    };
    for (const format of WEIGHT_FORMATS) expect(bitsPerWeight(format), format.id).toBe(expected[format.id]);
  });

  it("int8 adds one f16 scale per row; rows that are not whole blocks stay f16", () => {
    expect(matrixBytes(weightFormat("int8"), 10, 4096).bytes).toBe(10 * (4096 + 2));
    expect(matrixBytes(weightFormat("q4_k"), 64, 172)).toEqual({ bytes: 64 * 172 * 2, fellBack: true });
  });

  it("Llama-2-7B in f16 is 2 B per parameter; Q8_0 is 34/32 B per matrix weight + f32 norms", () => {
    const m = preset("llama-2-7b");
    expect(estimate(m, { context: 1 }).bytes.weights).toBe(6_738_415_616 * 2);
    const norms = 32 * 2 * 4096 + 4096;
    expect(estimate(m, { context: 1, weightFormat: "q8_0" }).bytes.weights).toBe(((6_738_415_616 - norms) / 32) * 34 + norms * 4);
  });

  it("tensor parallelism splits weights; replicated norms make the sum over GPUs slightly larger", () => {
    const one = estimate(preset("llama-3-70b"), { context: 1 });
    const eight = estimate(preset("llama-3-70b"), { context: 1, tp: 8 });
    const norms = (80 * 2 + 1) * 8192 * 2;
    expect(eight.bytes_all_gpus.weights).toBe(one.bytes.weights + 7 * norms);
  });
});

describe("totals and terms", () => {
  const m = preset("llama-3-8b");

  it("total is the sum of the five terms, per GPU and over all GPUs", () => {
    for (const tp of [1, 2, 8]) {
      const e = estimate(m, { context: 32768, sequences: 4, kvFormat: "int8", tp });
      const b = e.bytes;
      expect(b.total).toBe(b.weights + b.kv + b.activations + b.attention_scratch + b.overhead);
      expect(e.bytes_all_gpus.total).toBe(b.total * tp);
    }
  });

  it("naive attention keeps one layer's scores: heads × N × N × 4 B when the prompt is one chunk", () => {
    const N = 4096;
    const e = estimate(m, { context: N, attention: "naive", prefillChunk: N });
    expect(e.bytes.attention_scratch).toBe(32 * N * N * 4); // 2 GiB
    const chunked = estimate(m, { context: N, attention: "naive", prefillChunk: 512 });
    expect(chunked.bytes.attention_scratch).toBe(32 * 512 * N * 4);
  });

  it("flash attention scratch is O(N): prefill row stats + split-K partials of 256 keys", () => {
    const N = 131072;
    const e = estimate(m, { context: N, attention: "flash" });
    expect(e.bytes.attention_scratch).toBe(32 * 512 * 2 * 4 + 1 * 32 * (N / 256) * (128 + 2) * 4);
  });

  it("activations: T × 4 B × (h + h + H·d + K·(d + d_v) + H·d_v + 2·f) + logits V × 4 B", () => {
    const e = estimate(m, { context: 8192 });
    const perToken = 4096 + 4096 + 32 * 128 + 8 * 256 + 32 * 128 + 2 * 14336;
    expect(e.bytes.activations).toBe(512 * 4 * perToken + 128256 * 4);
    const scoring = estimate(m, { context: 8192, logits: "all" });
    expect(scoring.bytes.activations - e.bytes.activations).toBe(511 * 128256 * 4);
  });

  it("overhead: block tables, token inputs, logits readback, staging ≤ 64 MiB", () => {
    const e = estimate(m, { context: 8192, sequences: 2 });
    expect(e.bytes.overhead).toBe(2 * 512 * 4 + 512 * 8 + 2 * 128256 * 4 + 64 * MiB);
  });

  it("formulas show the arithmetic", () => {
    const text = estimate(m, { context: 1024, kvFormat: "int4" }).formulas.join("\n");
    expect(text).toMatch(/8 KV heads × \(K 128 values in int4/);
    expect(text).toMatch(/40,960 B/);
    expect(text).toMatch(/total = weights/);
  });
});

describe("max context", () => {
  it("is exact: the estimate at max_context fits and at max_context + 1 does not", () => {
    const cases = [
      { id: "llama-3-8b", memory: 24 * GiB, kvFormat: "f16" },
      { id: "llama-3-8b", memory: 24 * GiB, kvFormat: "int4" },
      { id: "llama-2-7b", memory: 16 * GiB, kvFormat: "int8" },
      { id: "mistral-7b", memory: 16 * GiB, kvFormat: "f16" },
      { id: "qwen2.5-0.5b", memory: 2 * GiB, kvFormat: "int2" },
    ];
    for (const { id, memory, kvFormat } of cases) {
      const m = preset(id);
      const e = estimate(m, { context: 1, kvFormat, gpuMemory: memory });
      const max = e.max_context!;
      expect(max, id).toBeGreaterThan(0);
      expect(estimate(m, { context: max, kvFormat }).bytes.total).toBeLessThanOrEqual(memory);
      expect(estimate(m, { context: max + 1, kvFormat }).bytes.total).toBeGreaterThan(memory);
    }
  });

  it("is 0 when the weights alone do not fit", () => {
    expect(estimate(preset("llama-3-70b"), { context: 1, gpuMemory: 24 * GiB }).max_context).toBe(0);
  });

  it("a sliding window lets Mistral-7B grow far beyond its trained context (memory still grows, slowly)", () => {
    const e = estimate(preset("mistral-7b"), { context: 1, gpuMemory: 16 * GiB });
    expect(e.max_context!).toBeGreaterThan(1_000_000);
  });

  it("largestFitting finds the boundary of any monotone predicate", () => {
    for (const limit of [1, 2, 3, 1000, 65536, 65537]) expect(largestFitting((n) => n <= limit)).toBe(limit);
    expect(largestFitting(() => false)).toBe(0);
    expect(largestFitting(() => true)).toBe(2 ** 32);
  });
});

describe("bad input is refused by name", () => {
  const m = preset("llama-3-8b");
  const refuses = (settings: Parameters<typeof estimate>[1], pattern: RegExp) =>
    expect(() => estimate(m, settings)).toThrow(pattern);

  it("context, sequences, block size", () => {
    refuses({ context: 0 }, /context must be an integer ≥ 1/);
    refuses({ context: 1.5 }, /context/);
    refuses({ context: 10, sequences: 0 }, /sequences/);
    refuses({ context: 10, blockSize: 0 }, /block size/);
  });
  it("tp that does not divide the heads, or cannot share the KV heads", () => {
    refuses({ context: 10, tp: 3 }, /tp 3 does not divide the 32 attention heads/);
    refuses({ context: 10, tp: 0 }, /tp/);
    expect(() => estimate(preset("qwen2.5-7b"), { context: 10, tp: 7 })).toThrow(/tp 7/); // 28 heads, 4 KV heads
  });
  it("unknown formats", () => {
    refuses({ context: 10, kvFormat: "int3" }, /unknown KV format "int3"/);
    refuses({ context: 10, weightFormat: "q4_z" }, /unknown weight format "q4_z"/);
  });
  it("errors are EstimatorErrors", () => {
    expect(() => estimate(m, { context: 0 })).toThrow(EstimatorError);
  });
  it("memory sizes", () => {
    expect(parseByteSize("24GiB")).toBe(24 * GiB);
    expect(parseByteSize("24G")).toBe(24 * GiB);
    expect(parseByteSize("80GB")).toBe(80e9);
    expect(parseByteSize("512 MiB")).toBe(512 * MiB);
    expect(() => parseByteSize("lots")).toThrow(/memory size/);
    expect(() => parseByteSize("0GB")).toThrow(/more than 0/);
  });
});
