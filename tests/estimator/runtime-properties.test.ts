// Properties every runtime profile keeps: more context or more sequences never costs less, KV formats order by
// size, tensor parallelism divides per-rank KV and weights the way each engine shards them, refusals are named.

import { describe, expect, it } from "vitest";
import {
  estimate, estimateLlamaCpp, estimateVllm, estimateWebLlm, GiB, planLlamaCpp, planVllm, parseGpus, preset, type ModelDescription,
} from "../../src/estimator/index.js";

const llama8b: ModelDescription = { ...preset("llama-3-8b"), contextLength: 131072 };
const contexts = [512, 1000, 4096, 8192, 32768, 131072];

function nonDecreasing(values: number[]): void {
  for (let i = 1; i < values.length; i++) expect(values[i]!, `step ${i}`).toBeGreaterThanOrEqual(values[i - 1]!);
}

describe("monotone in context and sequences", () => {
  it("webkv", () => {
    nonDecreasing(contexts.map((context) => estimate(llama8b, { context }).bytes.total));
    nonDecreasing([1, 2, 4, 8].map((sequences) => estimate(llama8b, { context: 4096, sequences }).bytes.total));
  });
  it("llama.cpp, flash attention on and off", () => {
    for (const flashAttention of [true, false]) {
      nonDecreasing(contexts.map((context) => estimateLlamaCpp(llama8b, { context, flashAttention, weightFormat: "q4_0" }).bytes.total));
      // -c is shared by the --parallel slots: each sequence keeps its 4096 tokens
      nonDecreasing([1, 2, 4, 8].map((sequences) => estimateLlamaCpp(llama8b, { context: 4096 * sequences, sequences, flashAttention, weightFormat: "q4_0" }).bytes.total));
    }
  });
  it("vLLM: a longer max_model_len never admits more concurrent requests", () => {
    const concurrency = contexts.map((maxModelLen) => estimateVllm(llama8b, { maxModelLen, gpuMemory: 80 * GiB }).figures.max_concurrency!);
    nonDecreasing([...concurrency].reverse());
  });
  it("WebLLM", () => {
    nonDecreasing(contexts.map((context) => estimateWebLlm(llama8b, { context, quantization: "q4f16_1" }).bytes.total));
  });
});

describe("KV formats ordered by size", () => {
  it("llama.cpp: f32 > f16 = bf16 > q8_0 > q5_1 > q5_0 > q4_1 > q4_0 = iq4_nl", () => {
    const kv = (type: string) => estimateLlamaCpp(llama8b, { context: 8192, kvK: type, kvV: type, flashAttention: true, weightFormat: "q4_0" }).bytes.kv;
    const order = ["f32", "f16", "q8_0", "q5_1", "q5_0", "q4_1", "q4_0"].map(kv);
    for (let i = 1; i < order.length; i++) expect(order[i]!).toBeLessThan(order[i - 1]!);
    expect(kv("bf16")).toBe(kv("f16"));
    expect(kv("iq4_nl")).toBe(kv("q4_0"));
  });
  it("webkv: f32 > f16 > int8 > int4 > int2", () => {
    const kv = (kvFormat: string) => estimate(llama8b, { context: 8192, kvFormat }).bytes.kv;
    const order = ["f32", "f16", "int8", "int4", "int2"].map(kv);
    for (let i = 1; i < order.length; i++) expect(order[i]!).toBeLessThan(order[i - 1]!);
  });
  it("vLLM: fp8 KV is half of auto (bf16)", () => {
    const kv = (kvCacheDtype: string) => estimateVllm(llama8b, { maxModelLen: 8192, gpuMemory: 80 * GiB, kvCacheDtype, activationBytes: GiB }).figures.kv_tokens!;
    expect(kv("fp8") / kv("auto")).toBeCloseTo(2, 2);
  });
});

describe("tensor parallelism", () => {
  const model = preset("llama-3-70b");
  it("webkv: KV and weights per GPU divide by tp", () => {
    const one = estimate(model, { context: 8192 });
    const four = estimate(model, { context: 8192, tp: 4 });
    expect(four.bytes.kv).toBe(one.bytes.kv / 4);
    expect(four.bytes.weights).toBeLessThan(one.bytes.weights / 4 * 1.01);
  });
  it("vLLM: KV heads per rank = 8 / tp, and one replicated head past tp 8", () => {
    const tokens = (tp: number) => estimateVllm(model, { maxModelLen: 8192, gpuMemory: 80 * GiB, tp, weightsBytes: 30 * GiB, activationBytes: GiB }).figures.kv_tokens!;
    expect(tokens(4) / tokens(2)).toBeCloseTo(2, 2);
    expect(tokens(16)).toBe(tokens(8));
  });
});

describe("refusals, named", () => {
  it("heads not divisible by tp", () => {
    expect(() => estimate(preset("llama-3-8b"), { context: 4096, tp: 3 })).toThrow(/tp 3 does not divide the 32 attention heads/);
    expect(() => estimateVllm(preset("llama-3-8b"), { maxModelLen: 4096, gpuMemory: 80 * GiB, tp: 3 })).toThrow(/divisible by tensor-parallel size 3/);
  });
  it("context beyond the model's maximum without rope scaling", () => {
    expect(() => estimateLlamaCpp(preset("llama-3-8b"), { context: 16384 })).toThrow(/beyond the 8,192 tokens .* no rope scaling/);
    expect(estimateLlamaCpp(preset("llama-3-8b"), { context: 16384, ropeScaling: true }).figures.cells).toBe(16384);
    expect(() => planVllm(preset("llama-3-8b"), { context: 16384, gpus: parseGpus("H100") })).toThrow(/no rope scaling/);
  });
  it("llama.cpp: a quantized V cache without flash attention, an unknown cache type", () => {
    expect(() => estimateLlamaCpp(llama8b, { context: 4096, kvK: "q8_0", flashAttention: false })).toThrow(/quantized V cache \(q8_0\) without flash attention/);
    expect(() => estimateLlamaCpp(llama8b, { context: 4096, kvK: "int4" })).toThrow(/no KV cache type "int4"/);
  });
  it("launch planning: an unknown GPU, and what fails when nothing fits", () => {
    expect(() => parseGpus("8xB300")).toThrow(/unknown GPU "B300"/);
    const plan = planVllm(preset("llama-3.1-405b"), { context: 131072, gpus: parseGpus("2xRTX4090") });
    expect(plan.fits).toBe(false);
    expect(plan.lines[0]).toMatch(/weights .* over the .* budget by/);
    const small = planLlamaCpp(llama8b, { context: 131072, gpus: parseGpus("RTX3090"), weightFormat: "f32" });
    expect(small.fits).toBe(false);
    expect(small.lines[0]).toMatch(/over by/);
  });
});
