// Predicted equals measured, to the byte, for every architecture: the webkv profile of the estimator reads
// the GGUF tensor list (fused tensors uploaded as their parts, biases and q/k norms as f32, RoPE factors kept
// on the CPU, Gemma's post-norm buffer and second RoPE table) without importing the runtime.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { LoadResult } from "../../src/app/runtime.js";
import { memoryReport, predictRun } from "../../src/cli/memory-report.js";
import { writeGgufFile } from "../../src/gguf/node-writer.js";
import { syntheticLlama, type SyntheticLlamaShape } from "../../src/gguf/synthetic.js";
import { GgmlType } from "../../src/gguf/types.js";
import type { MemorySnapshot } from "../../src/gpu/memory.js";
import { useBrowserSession } from "../helpers/browser.js";

const session = useBrowserSession();
const tempDir = await mkdtemp(join(tmpdir(), "webkv-memory-arch-"));
afterAll(() => rm(tempDir, { recursive: true, force: true }));

const base = { dim: 128, layers: 3, heads: 4, kvHeads: 2, ffn: 256, vocab: 400, contextLength: 512 } as const;
const CASES: { label: string; shape: SyntheticLlamaShape; type: GgmlType; options?: Record<string, unknown> }[] = [
  { label: "llama 3 (rope_freqs)", shape: { ...base, ropeScaling: { type: "llama3", factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 128 } }, type: GgmlType.Q8_0 },
  { label: "qwen2", shape: { ...base, architecture: "qwen2" }, type: GgmlType.Q4_0 },
  { label: "qwen3", shape: { ...base, architecture: "qwen3" }, type: GgmlType.F16 },
  { label: "gemma2", shape: { ...base, architecture: "gemma2", slidingWindow: 32 }, type: GgmlType.Q8_0 },
  { label: "gemma3, split bindings", shape: { ...base, architecture: "gemma3", slidingWindow: 32 }, type: GgmlType.Q4_0, options: { maxBindingBytes: 4096 } },
  { label: "phi3, context 256", shape: { ...base, architecture: "phi3", ropeDim: 16, ropeScaling: { type: "longrope", originalContext: 512, attnFactor: 1.1 } }, type: GgmlType.F32, options: { contextSize: 256 } },
];

describe("measured vs predicted memory, every architecture", () => {
  it.each(CASES)("$label", async ({ label, shape, type, options }) => {
    const path = join(tempDir, `${label.replace(/\W+/g, "-")}.gguf`);
    const model = syntheticLlama(shape, { seed: 3, weightType: type });
    await writeGgufFile(path, model.metadata, model.tensors);
    const loaded = await session().call<LoadResult>("load", { url: session().publishFile(path), options: { kvBlocks: 16, maxStepTokens: 32, ...options } });
    const promptIds = [1, ...Array.from({ length: 40 }, (_, i) => 3 + ((i * 37) % 300))];
    const reply = await session().call<{ memory: MemorySnapshot; output_ids: number[] }>("generate", { modelId: loaded.modelId, promptIds, maxTokens: 8 });
    const predicted = await predictRun(path, loaded, { promptTokens: promptIds.length, generatedTokens: reply.output_ids.length });
    const report = memoryReport(reply.memory, predicted, { unavailable: "not read in this test" });
    for (const [category, error] of Object.entries(report.relative_error)) expect(error, category).toBe(0);
    await session().call("unload", { modelId: loaded.modelId });
  });
});
