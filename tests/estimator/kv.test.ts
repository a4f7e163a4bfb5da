// KV bytes per token against hand arithmetic, one architecture kind per case.
// Factor order in every comment: 2 (K and V) × layers × KV heads × head_dim × bytes per value.

import { describe, expect, it } from "vitest";
import {
  estimate,
  kvBitsPerValue,
  kvFormat,
  kvVectorBytes,
  preset,
  tokensHeld,
  type KvFormatSpec,
  type ModelDescription,
} from "../../src/estimator/index.js";

/** A small Llama-shaped model to vary one thing at a time. */
function synthetic(overrides: Partial<ModelDescription>): ModelDescription {
  return {
    name: "synthetic", architecture: "llama", layers: 4, hiddenSize: 512, heads: 8, kvHeads: 8, headDim: 64,
    ffnSize: 1024, vocabSize: 1000, tiedEmbeddings: false, contextLength: 4096, ...overrides,
  };
}

const perToken = (model: ModelDescription, settings: Record<string, unknown> = {}) =>
  estimate(model, { context: 1, ...settings }).kv_bytes_per_token;

describe("KV bytes per token, f16", () => {
  it("MHA: Llama-2-7B = 2·32·32·128·2 = 524,288 B", () => {
    expect(2 * 32 * 32 * 128 * 2).toBe(524288);
    const e = estimate(preset("llama-2-7b"), { context: 1 });
    expect(e.attention_kind).toBe("MHA");
    expect(e.kv_bytes_per_token).toBe(524288);
  });

  it("GQA: Llama-3-8B = 2·32·8·128·2 = 131,072 B (4× less than with 32 heads)", () => {
    const e = estimate(preset("llama-3-8b"), { context: 1 });
    expect(e.attention_kind).toBe("GQA");
    expect(e.kv_bytes_per_token).toBe(2 * 32 * 8 * 128 * 2);
  });

  it("MQA: one KV head = 2·4·1·64·2 = 1,024 B", () => {
    const model = synthetic({ kvHeads: 1 });
    expect(estimate(model, { context: 1 }).attention_kind).toBe("MQA");
    expect(perToken(model)).toBe(2 * 4 * 1 * 64 * 2);
  });

  it("MLA: DeepSeek-V3 = (512 + 64)·61·2 = 70,272 B, whatever the head count", () => {
    const e = estimate(preset("deepseek-v3"), { context: 1 });
    expect(e.attention_kind).toBe("MLA");
    expect(e.kv_bytes_per_token).toBe((512 + 64) * 61 * 2);
    expect(perToken(preset("kimi-k2"))).toBe(70272); // 64 heads instead of 128: same latent
  });

  it("SWA: Mistral-7B stops at its 4096-token window", () => {
    const m = preset("mistral-7b");
    const bytesPerToken = 2 * 32 * 8 * 128 * 2; // 131,072
    expect(perToken(m)).toBe(bytesPerToken);
    const kvAt = (context: number, blockSize = 1) => estimate(m, { context, blockSize }).bytes.kv;
    expect(kvAt(2048)).toBe(bytesPerToken * 2048);
    expect(kvAt(4096)).toBe(bytesPerToken * 4096); // 512 MiB
    expect(kvAt(8192)).toBe(bytesPerToken * 4096);
    expect(kvAt(32768)).toBe(bytesPerToken * 4096);
    // paged in blocks of 16: a 4096-token window can straddle ceil(4095/16) + 1 = 257 blocks = 4112 slots
    expect(kvAt(32768, 16)).toBe(bytesPerToken * 4112);
    expect(kvAt(4096, 16)).toBe(bytesPerToken * 4096);
  });

  it("SWA with a 5 local : 1 global pattern keeps full context only in the global layers", () => {
    const localLayers = [true, true, true, true, true, false];
    const model = synthetic({ layers: 6, slidingWindow: { size: 1024, localLayers } });
    const layerBytes = 2 * 8 * 64 * 2; // 2,048 B per token per layer
    const kv = estimate(model, { context: 8192, blockSize: 1 }).bytes.kv;
    expect(kv).toBe(5 * layerBytes * 1024 + 1 * layerBytes * 8192);
  });

  it("cross-layer sharing: layers reading another layer's cache store none", () => {
    // layers 1 and 3 read the caches of layers 0 and 2: 2 storing layers × 2·8·64·2 B
    const model = synthetic({ kvSourceLayer: [0, 0, 2, 2] });
    expect(perToken(model)).toBe(2 * 2 * 8 * 64 * 2);
    const e = estimate(model, { context: 100, blockSize: 1 });
    expect(e.bytes.kv).toBe(2 * 2 * 8 * 64 * 2 * 100);
    expect(e.breakdown.kv.find((g) => g.kind.startsWith("shared"))?.layers).toBe(2);
  });

  it("TP: Llama-3-70B on 8 GPUs holds 8/8 = 1 KV head per GPU: 2·80·1·128·2 = 40,960 B", () => {
    const e = estimate(preset("llama-3-70b"), { context: 1, tp: 8 });
    expect(e.kv_bytes_per_token).toBe(2 * 80 * 1 * 128 * 2);
    expect(e.kv_bytes_per_token_all_gpus).toBe(2 * 80 * 8 * 128 * 2);
  });

  it("TP beyond the KV heads replicates them: 16 GPUs still hold 1 head each", () => {
    const e = estimate(preset("llama-3-70b"), { context: 1, tp: 16 });
    expect(e.kv_bytes_per_token).toBe(2 * 80 * 1 * 128 * 2);
    expect(e.kv_bytes_per_token_all_gpus).toBe(16 * 2 * 80 * 128 * 2); // twice the model's own KV
  });

  it("TP leaves MLA's latent whole on every GPU", () => {
    const e = estimate(preset("deepseek-v3"), { context: 1, tp: 8 });
    expect(e.kv_bytes_per_token).toBe(70272);
    expect(e.kv_bytes_per_token_all_gpus).toBe(8 * 70272);
  });
});

describe("quantized KV formats, with their scales", () => {
  const llama3 = preset("llama-3-8b");
  const cases: [string, number, number][] = [
    // format, bytes per 128-value head vector, effective bits per value
    ["f32", 128 * 4, 32],
    ["bf16", 128 * 2, 16],
    ["fp8", 128, 8], //                          + f32 per-tensor scale, counted once per layer
    ["int8", 128 + (128 / 32) * 2, 8.5], //      f16 scale per 32
    ["int4", 64 + (128 / 32) * (2 + 2), 5], //   f16 scale + f16 zero per 32
    ["int2", 32 + (128 / 32) * (2 + 2), 3],
    ["nvfp4", 64 + (128 / 16) * 1, 4.5], //      e4m3 scale per 16
    ["q8_0", 128 + 4 * 2, 8.5],
    ["q4_0", 64 + 4 * 2, 4.5],
  ];
  for (const [id, vectorBytes, bits] of cases) {
    it(`${id}: ${vectorBytes} B per head vector, ${bits} bits per value`, () => {
      const format = kvFormat(id);
      expect(kvVectorBytes(format, 128)).toBe(vectorBytes);
      expect(kvBitsPerValue(format)).toBe(bits);
      expect(perToken(llama3, { kvFormat: id })).toBe(2 * 32 * 8 * vectorBytes);
    });
  }

  it("per-tensor scales are counted once per layer for K and V (fp8: 32 layers × 2 × 4 B)", () => {
    const e = estimate(llama3, { context: 1024, kvFormat: "fp8", blockSize: 1 });
    expect(e.bytes.kv).toBe(2 * 32 * 8 * 128 * 1024 + 32 * 2 * 4);
  });

  it("K and V formats are independent: int8 K + int4 V = 8·(136 + 80)·32", () => {
    expect(perToken(llama3, { kvKFormat: "int8", kvVFormat: "int4" })).toBe(8 * (136 + 80) * 32);
    expect(perToken(llama3, { kvFormat: "f16", kvVFormat: "int2" })).toBe(8 * (256 + 48) * 32);
  });

  it("a runtime's own format plugs in as a spec (int4 with f32 scale per 64, no zero)", () => {
    const custom: KvFormatSpec = { id: "int4-g64", bitsPerValue: 4, groupSize: 64, scaleBytes: 4, zeroBytes: 0, tensorScaleBytes: 0, description: "test" };
    expect(kvBitsPerValue(custom)).toBe(4.5);
    expect(perToken(llama3, { kvFormat: custom })).toBe(2 * 32 * 8 * (64 + 2 * 4));
  });

  it("groups never straddle heads: a head of 8 values still carries a whole int8 group's scale", () => {
    expect(kvVectorBytes(kvFormat("int8"), 8)).toBe(8 + 2);
  });
});

describe("paged blocks", () => {
  it("each sequence's tokens round up to whole blocks", () => {
    expect(tokensHeld(100, 16)).toBe(112);
    expect(tokensHeld(100, 1)).toBe(100);
    const e = estimate(preset("llama-3-8b"), { context: 100, sequences: 3, blockSize: 16 });
    expect(e.bytes.kv).toBe(131072 * 112 * 3);
  });
});
