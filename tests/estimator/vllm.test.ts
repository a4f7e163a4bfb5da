// vLLM's KV capacity against what vLLM logged in public threads (each case names its thread and the lines used):
// given the KV memory vLLM reported, the block count must come out within 2%; given the model, the weights it
// reported loading must come out within 1%.

import { describe, expect, it } from "vitest";
import { estimateVllm, GiB, preset, vllmKvCapacity, type ModelDescription } from "../../src/estimator/index.js";

const llama31_8b: ModelDescription = { ...preset("llama-3-8b"), name: "Llama-3.1-8B", contextLength: 131072 };
const llama31_70b: ModelDescription = { ...preset("llama-3-70b"), name: "Llama-3.1-70B", contextLength: 131072 };
/** Qwen/Qwen3-235B-A22B config.json: 94 layers, 64 heads, 4 KV heads of 128, 128 experts (8 active) of 1536. */
const qwen3_235b: ModelDescription = {
  name: "Qwen3-235B-A22B", architecture: "qwen3_moe", layers: 94, hiddenSize: 4096, heads: 64, kvHeads: 4, headDim: 128,
  ffnSize: 12288, vocabSize: 151936, tiedEmbeddings: false, contextLength: 40960, qkNorm: true,
  moe: { experts: 128, expertsPerToken: 8, expertFfnSize: 1536, sharedFfnSize: 0, denseLayersFirst: 0, routerBias: false },
};

describe("vLLM KV blocks for documented cases", () => {
  // github.com/vllm-project/vllm/issues/10517 (kaspersiminski, 2024-12-02): Llama-3.1-8B-Instruct on an RTX 3090,
  // gpu_memory_utilization 0.90, bf16 KV, block 16: "kv_cache_size=3.81GiB … # GPU blocks: 1952" (max len 20000)
  // and "kv_cache_size=2.89GiB … # GPU blocks: 1478" (max len 29000, 23648 tokens).
  const cases = [
    { what: "Llama-3.1-8B, 3.81 GiB (vllm#10517)", model: llama31_8b, tp: 1, available: 3.81 * GiB, dtype: 2, maxLen: 20000, blocks: 1952 },
    { what: "Llama-3.1-8B, 2.89 GiB (vllm#10517)", model: llama31_8b, tp: 1, available: 2.89 * GiB, dtype: 2, maxLen: 29000, blocks: 1478 },
    // github.com/vllm-project/vllm/issues/21348: Qwen3-235B-A22B-FP8 on 4×H100, tp 4, KV in bf16:
    // "Available KV cache memory: 8.11 GiB", "GPU KV cache size: 178,880 tokens" (block 16 → 11,180 blocks).
    { what: "Qwen3-235B-A22B tp 4, 8.11 GiB (vllm#21348)", model: qwen3_235b, tp: 4, available: 8.11 * GiB, dtype: 2, maxLen: 40960, blocks: 178880 / 16 },
  ];
  for (const c of cases) {
    it(c.what, () => {
      const cap = vllmKvCapacity(c.model, { availableBytes: c.available, tp: c.tp, blockSize: 16, dtypeBytes: c.dtype, maxModelLen: c.maxLen });
      expect(Math.abs(cap.numBlocks / c.blocks - 1)).toBeLessThanOrEqual(0.02);
    });
  }

  it("maximum concurrency as vLLM logs it (vllm PR #12569: 1381 blocks, 2048 tokens per request → 10.79x)", () => {
    const page = 16 * 8 * 256 * 2; // Llama-3.1-70B w8a8, bf16 KV: one layer's block
    const cap = vllmKvCapacity(llama31_70b, { availableBytes: 1381 * page * 80, tp: 1, blockSize: 16, dtypeBytes: 2, maxModelLen: 2048 });
    expect(cap.numBlocks).toBe(1381);
    expect(cap.maxConcurrency.toFixed(2)).toBe("10.79");
  });

  it("weights vLLM reports loading for Llama-3.1-8B in bf16 (vllm#10517: 'Loading model weights took 14.9888 GB', GiB)", () => {
    const e = estimateVllm(llama31_8b, { maxModelLen: 20000, gpuMemory: 23.58 * GiB });
    expect(Math.abs(e.bytes.weights / GiB / 14.9888 - 1)).toBeLessThanOrEqual(0.001);
  });

  it("the whole chain for vllm#10517's 20000-token run, with the activation peak and non-torch memory it logged", () => {
    // total_gpu_memory=23.58GiB, peak_torch_memory=17.06GiB (weights included), non_torch_memory=0.35GiB → 1952 blocks
    const e = estimateVllm(llama31_8b, {
      maxModelLen: 20000, gpuMemory: 23.58 * GiB, gpuMemoryUtilization: 0.9, activationBytes: (17.06 - 14.9888) * GiB, nonTorchBytes: 0.35 * GiB,
    });
    expect(Math.abs(e.figures.num_gpu_blocks! / 1952 - 1)).toBeLessThanOrEqual(0.02);
  });
});

describe("vLLM profile", () => {
  const base = { maxModelLen: 32768, gpuMemory: 80 * GiB };
  it("splits KV heads and weights over tensor-parallel ranks", () => {
    const one = estimateVllm(llama31_70b, { ...base, tp: 2 });
    const four = estimateVllm(llama31_70b, { ...base, tp: 8 });
    expect(four.figures.num_gpu_blocks! / 1).toBeGreaterThan(one.figures.num_gpu_blocks!);
    const page = (tp: number) => vllmKvCapacity(llama31_70b, { availableBytes: GiB, tp, blockSize: 16, dtypeBytes: 2, maxModelLen: 1 }).pageBytesPerLayer;
    expect(page(1)).toBe(4 * page(4));
    expect(page(8)).toBe(page(16)); // 8 KV heads over 16 GPUs: one head each, replicated
    expect(estimateVllm(llama31_70b, { ...base, tp: 4 }).bytes.weights).toBeLessThan(estimateVllm(llama31_70b, { ...base, tp: 2 }).bytes.weights * 0.51);
  });
  it("fp8 KV holds twice the tokens of bf16 for the same memory", () => {
    const at = (dtype: number) => vllmKvCapacity(llama31_8b, { availableBytes: 10 * GiB, tp: 1, blockSize: 16, dtypeBytes: dtype, maxModelLen: 8192 }).tokens;
    expect(at(1)).toBeGreaterThanOrEqual(2 * at(2) - 16);
  });
  it("refuses by name: heads not divisible by tp, context past the trained length, an unknown KV dtype", () => {
    expect(() => estimateVllm(llama31_8b, { ...base, tp: 3 })).toThrow(/32 attention heads .* divisible by tensor-parallel size 3/);
    expect(() => estimateVllm(preset("llama-3-8b"), { ...base })).toThrow(/beyond the 8,192 tokens .* no rope scaling/);
    expect(() => estimateVllm(llama31_8b, { ...base, kvCacheDtype: "int4" })).toThrow(/no kv_cache_dtype "int4"/);
  });
});
