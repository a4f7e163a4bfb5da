// Every GPU byte accounted: for real runs in Chromium, the allocator's per-category peaks against the
// estimator's prediction (weights and KV within 2%, total within 10% — here they agree to the byte), the
// category counts summing to the buffers actually alive, and an outside reading of the GPU process.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LoadResult } from "../../src/app/runtime.js";
import { memoryReport, predictRun } from "../../src/cli/memory-report.js";
import type { MemorySnapshot } from "../../src/gpu/memory.js";
import { GpuProcessMonitor } from "../../src/harness/process-memory.js";
import { useBrowserSession } from "../helpers/browser.js";
import { modelPath } from "../helpers/env.js";
import { writeGgufFile } from "../../src/gguf/node-writer.js";
import { syntheticLlama } from "../../src/gguf/synthetic.js";
import { GgmlType } from "../../src/gguf/types.js";
import { quantizeWithLlamaCpp, type LlamaFtype } from "../reference/llamacpp-quantize.js";

const session = useBrowserSession();

const CASES = [
  { file: "stories260K.gguf", kv: undefined, attention: "flash" },
  { file: "stories260K-q8_0.gguf", kv: { k: { type: "int8", grouping: "channel" }, v: { type: "int8", grouping: "token" } }, attention: "flash" },
  { file: "stories260K-q4_0.gguf", kv: { k: { type: "int4", grouping: "channel" }, v: { type: "int4", grouping: "token" } }, attention: "naive" },
  { file: "stories260K.gguf", kv: { k: { type: "f16", grouping: "token" }, v: { type: "f16", grouping: "token" } }, attention: "naive", maxBindingBytes: 8192 },
] as const;

/** Runs a model and expects every category of the prediction to equal the allocator's measurement. */
async function expectPredictionExact(path: string, options: Record<string, unknown>): Promise<void> {
  const loaded = await session().call<LoadResult>("load", { url: session().publishFile(path), options });
  const promptIds = [1, ...Array.from({ length: 40 }, (_, i) => 3 + ((i * 37) % 500))];
  const reply = await session().call<{ memory: MemorySnapshot; output_ids: number[] }>("generate", { modelId: loaded.modelId, promptIds, maxTokens: 8 });
  const predicted = await predictRun(path, loaded, { promptTokens: promptIds.length, generatedTokens: reply.output_ids.length });
  const report = memoryReport(reply.memory, predicted, { unavailable: "not read in this test" });
  for (const [category, error] of Object.entries(report.relative_error)) expect(error, category).toBe(0);
  await session().call("unload", { modelId: loaded.modelId });
}

describe("measured vs predicted memory, llama.cpp's quantized formats", () => {
  let dir = "";
  let f32Path = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "webkv-memory-formats-"));
    f32Path = join(dir, "f32.gguf");
    const model = syntheticLlama({ dim: 256, layers: 2, heads: 4, kvHeads: 2, ffn: 512, vocab: 512, contextLength: 256 }, { seed: 4, weightType: GgmlType.F32 });
    await writeGgufFile(f32Path, model.metadata, model.tensors);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  // Q3_K_M holds Q3_K (110 → 112 B a block on the GPU), Q4_K, Q5_K and Q6_K (210 → 212); IQ4_NL pads 18 → 20.
  // A 16 KiB binding cap splits the matrices into chunks. (Every format × shape × chunk size: tests/estimator/webkv.test.ts.)
  const ftypes: LlamaFtype[] = ["Q3_K_M", "IQ4_NL"];
  it.each(ftypes)("%s: weights and every other category predicted to the byte", async (ftype) => {
    const path = join(dir, `${ftype}.gguf`);
    await quantizeWithLlamaCpp(f32Path, path, ftype);
    await expectPredictionExact(path, { kvBlocks: 8, maxStepTokens: 16, maxBindingBytes: 16384 });
  });

  // Q4_0 and Q8_0 (llama.cpp's mixes: Q6_K output in Q4_0) decode with int8 inputs on SwiftShader: its quantized
  // row (sized by the widest such matrix's input) is predicted to the byte too; with them off, it is not allocated.
  it.each(["Q4_0", "Q8_0"] as const)("%s, decode with int8 inputs and without: every category predicted to the byte", async (ftype) => {
    const path = join(dir, `${ftype}.gguf`);
    await quantizeWithLlamaCpp(f32Path, path, ftype);
    for (const int8Activations of [true, false]) {
      const options = { kvBlocks: 8, maxStepTokens: 16, tuning: { int8Activations } };
      const loaded = await session().call<LoadResult>("load", { url: session().publishFile(path), options });
      expect(loaded.plan.int8_activations).toBe(int8Activations);
      await session().call("unload", { modelId: loaded.modelId });
      await expectPredictionExact(path, options);
    }
  });
});

describe("measured vs predicted memory", () => {
  it.each(CASES.map((c, i) => ({ ...c, i })))("$file, KV $kv.k.type, $attention attention", async (c) => {
    const options = { kvFormat: c.kv, attention: c.attention, kvBlocks: 24, maxStepTokens: 32, maxBindingBytes: "maxBindingBytes" in c ? c.maxBindingBytes : undefined };
    const loaded = await session().call<LoadResult>("load", { url: session().publishFile(modelPath(c.file)), options });
    const promptIds = [1, ...Array.from({ length: 99 }, (_, i) => 3 + ((i * 37) % 500))];
    const reply = await session().call<{ memory: MemorySnapshot; output_ids: number[] }>("generate", { modelId: loaded.modelId, promptIds, maxTokens: 24 });
    const predicted = await predictRun(modelPath(c.file), loaded, { promptTokens: promptIds.length, generatedTokens: reply.output_ids.length });
    const report = memoryReport(reply.memory, predicted, { unavailable: "not read in this test" });
    for (const category of ["weights", "kv"]) expect(Math.abs(report.relative_error[category]!)).toBeLessThanOrEqual(0.02);
    expect(Math.abs(report.relative_error.total!)).toBeLessThanOrEqual(0.1);
    // In practice the prediction is exact, category by category.
    for (const [category, error] of Object.entries(report.relative_error)) expect(error, category).toBe(0);

    // Categories add up to the total, and to the buffers alive.
    const m = reply.memory;
    const sum = m.weights.live + m.kv.live + m.activations.live + m.attention_scratch.live + m.staging.live + m.other.live;
    expect(sum).toBe(m.total.live);
    const buffers = await session().call<{ size: number }[]>("buffers", { modelId: loaded.modelId, limit: 100000 });
    expect(buffers.reduce((n, b) => n + b.size, 0)).toBe(m.total.live);
    await session().call("unload", { modelId: loaded.modelId });
  });

  it("the GPU process's memory is read from outside and grows with a model's buffers", async () => {
    const monitor = await GpuProcessMonitor.start(session().chromium.userDataDir);
    if ("unavailable" in monitor) throw new Error(monitor.unavailable);
    const loaded = await session().call<LoadResult>("load", { url: session().publishFile(modelPath("stories260K.gguf")), options: { kvBlocks: 4096 } });
    await session().call("generate", { modelId: loaded.modelId, promptIds: [1], maxTokens: 4 });
    const observed = await monitor.stop();
    expect(observed.samples).toBeGreaterThan(0);
    // 4096 blocks × 5 layers × 4 KiB (16 tokens × 4 KV heads × 8 dims × K,V × 4 B) = 80 MiB, resident once zero-initialised.
    expect(loaded.kv.bytes).toBe(4096 * 5 * 4096);
    expect(observed.gpuProcessDeltaAtEnd).toBeGreaterThan(loaded.kv.bytes * 0.9);
    await session().call("unload", { modelId: loaded.modelId });
  });
});
