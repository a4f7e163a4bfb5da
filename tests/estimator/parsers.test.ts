// Parsers: Hugging Face config.json objects and GGUF metadata (+ tensor lists) give the same descriptions
// as the presets, and a real GGUF's weights are summed byte-exactly.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  countParams,
  estimate,
  EstimatorError,
  fromGgufMetadata,
  fromHfConfig,
  preset,
  type ModelDescription,
} from "../../src/estimator/index.js";
import { fileSource } from "../../src/gguf/node-source.js";
import { readGgufHeader } from "../../src/gguf/reader.js";
import { modelsDir } from "../helpers/env.js";

// Subsets of the published config.json files (the fields the estimator reads, plus a few it must ignore).
const LLAMA2_7B = {
  architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_size: 4096, intermediate_size: 11008,
  num_attention_heads: 32, num_hidden_layers: 32, num_key_value_heads: 32, vocab_size: 32000,
  max_position_embeddings: 4096, tie_word_embeddings: false, rms_norm_eps: 1e-5, torch_dtype: "float16",
};
const MISTRAL_7B = {
  model_type: "mistral", hidden_size: 4096, intermediate_size: 14336, num_attention_heads: 32, num_hidden_layers: 32,
  num_key_value_heads: 8, vocab_size: 32000, max_position_embeddings: 32768, sliding_window: 4096, tie_word_embeddings: false,
};
const MIXTRAL = {
  model_type: "mixtral", hidden_size: 4096, intermediate_size: 14336, num_attention_heads: 32, num_hidden_layers: 32,
  num_key_value_heads: 8, vocab_size: 32000, max_position_embeddings: 32768, sliding_window: null,
  num_local_experts: 8, num_experts_per_tok: 2, tie_word_embeddings: false,
};
const QWEN25_05B = {
  model_type: "qwen2", hidden_size: 896, intermediate_size: 4864, num_attention_heads: 14, num_hidden_layers: 24,
  num_key_value_heads: 2, vocab_size: 151936, max_position_embeddings: 32768, sliding_window: 32768,
  use_sliding_window: false, max_window_layers: 24, tie_word_embeddings: true,
};
const DEEPSEEK_V3 = {
  model_type: "deepseek_v3", hidden_size: 7168, intermediate_size: 18432, moe_intermediate_size: 2048,
  num_hidden_layers: 61, num_attention_heads: 128, num_key_value_heads: 128, n_shared_experts: 1, n_routed_experts: 256,
  num_experts_per_tok: 8, first_k_dense_replace: 3, moe_layer_freq: 1, kv_lora_rank: 512, q_lora_rank: 1536,
  qk_nope_head_dim: 128, qk_rope_head_dim: 64, v_head_dim: 128, topk_method: "noaux_tc", vocab_size: 129280,
  max_position_embeddings: 163840, num_nextn_predict_layers: 1, tie_word_embeddings: false,
};
const KIMI_K2 = {
  ...DEEPSEEK_V3, model_type: "kimi_k2", num_attention_heads: 64, num_key_value_heads: 64, n_routed_experts: 384,
  first_k_dense_replace: 1, vocab_size: 163840, max_position_embeddings: 131072, num_nextn_predict_layers: 0,
};

/** Two descriptions agree when everything the estimator derives from them agrees. */
function expectSameMemory(a: ModelDescription, b: ModelDescription): void {
  expect(countParams(a)).toEqual(countParams(b));
  for (const context of [1, 5000, 100_000]) {
    expect(estimate(a, { context }).bytes).toEqual(estimate(b, { context }).bytes);
  }
}

describe("fromHfConfig", () => {
  it("llama: Llama-2-7B equals its preset", () => expectSameMemory(fromHfConfig(LLAMA2_7B), preset("llama-2-7b")));
  it("mistral: every layer slides over 4096 tokens", () => {
    const m = fromHfConfig(MISTRAL_7B);
    expect(m.slidingWindow?.size).toBe(4096);
    expect(m.slidingWindow?.localLayers.every(Boolean)).toBe(true);
    expectSameMemory(m, preset("mistral-7b"));
  });
  it("mixtral: 8 experts, 2 per token, no window (sliding_window null)", () => {
    const m = fromHfConfig(MIXTRAL);
    expect(m.slidingWindow).toBeUndefined();
    expectSameMemory(m, preset("mixtral-8x7b"));
  });
  it("qwen2: biases on, window ignored when use_sliding_window is false, tied embedding", () => {
    const m = fromHfConfig(QWEN25_05B);
    expect(m.qkvBias).toBe(true);
    expect(m.slidingWindow).toBeUndefined();
    expectSameMemory(m, preset("qwen2.5-0.5b"));
  });
  it("qwen2 with use_sliding_window: layers from max_window_layers on slide", () => {
    const m = fromHfConfig({ ...QWEN25_05B, use_sliding_window: true, sliding_window: 4096, max_window_layers: 20 });
    expect(m.slidingWindow?.localLayers.filter(Boolean).length).toBe(4);
    expect(m.slidingWindow?.localLayers[20]).toBe(true);
  });
  it("deepseek_v3: MLA + MoE equal the preset; MTP layer recorded, not counted", () => {
    const m = fromHfConfig(DEEPSEEK_V3);
    expect(m.mla).toEqual({ kvLoraRank: 512, qkRopeHeadDim: 64, qkNopeHeadDim: 128, vHeadDim: 128, qLoraRank: 1536 });
    expect(m.mtpLayers).toBe(1);
    expectSameMemory(m, preset("deepseek-v3"));
  });
  it("kimi_k2 (also wrapped in text_config, as Kimi-K2.5 ships it)", () => {
    expectSameMemory(fromHfConfig(KIMI_K2), preset("kimi-k2"));
    expectSameMemory(fromHfConfig({ model_type: "kimi_k25", text_config: KIMI_K2 }), preset("kimi-k2"));
  });
  it("gemma2: alternating local/global starting local, 4 norms per layer, tied by default", () => {
    const m = fromHfConfig({
      model_type: "gemma2", hidden_size: 2304, intermediate_size: 9216, num_attention_heads: 8, num_key_value_heads: 4,
      head_dim: 256, num_hidden_layers: 26, vocab_size: 256000, max_position_embeddings: 8192, sliding_window: 4096,
    });
    expect(m.tiedEmbeddings).toBe(true);
    expect(m.normsPerLayer).toBe(4);
    expect(m.slidingWindow?.localLayers.slice(0, 4)).toEqual([true, false, true, false]);
    // 13 local layers capped at 4096, 13 global at 8192: 2·4·256·2 B per token per layer
    expect(estimate(m, { context: 8192, blockSize: 1 }).bytes.kv).toBe(13 * 4096 * 2 * 4 * 256 * 2 + 13 * 8192 * 2 * 4 * 256 * 2);
  });
  it("gemma3 (text_config): 5 local then 1 global", () => {
    const m = fromHfConfig({
      model_type: "gemma3", text_config: {
        model_type: "gemma3_text", hidden_size: 2560, intermediate_size: 10240, num_attention_heads: 8, num_key_value_heads: 4,
        head_dim: 256, num_hidden_layers: 34, vocab_size: 262208, max_position_embeddings: 131072, sliding_window: 1024,
        sliding_window_pattern: 6,
      },
    });
    expect(m.slidingWindow?.localLayers.slice(0, 6)).toEqual([true, true, true, true, true, false]);
    expect(m.slidingWindow?.localLayers.filter((local) => !local).length).toBe(5); // layers 5, 11, 17, 23, 29
    expect(m.qkNorm).toBe(true);
  });
  it("layer_types wins over patterns", () => {
    const m = fromHfConfig({ ...MISTRAL_7B, num_hidden_layers: 2, layer_types: ["full_attention", "sliding_attention"] });
    expect(m.slidingWindow?.localLayers).toEqual([false, true]);
  });
  it("missing or mistyped fields are named", () => {
    expect(() => fromHfConfig({ model_type: "llama" })).toThrow(/num_hidden_layers/);
    expect(() => fromHfConfig({ ...LLAMA2_7B, hidden_size: "4096" })).toThrow(EstimatorError);
    expect(() => fromHfConfig([1, 2])).toThrow(/JSON object/);
  });
});

describe("fromGgufMetadata", () => {
  const llamaMetadata = {
    "general.architecture": "llama",
    "general.name": "tiny",
    "llama.block_count": 5,
    "llama.embedding_length": 64,
    "llama.attention.head_count": 8,
    "llama.attention.head_count_kv": 4,
    "llama.feed_forward_length": 172,
    "llama.context_length": 2048,
    "tokenizer.ggml.tokens": Array.from({ length: 512 }, (_, i) => `t${i}`),
  };

  it("reads a plain object and a Map alike; stories260K's shapes equal its preset", () => {
    const fromObject = fromGgufMetadata(llamaMetadata);
    const fromMap = fromGgufMetadata(new Map(Object.entries(llamaMetadata)));
    expect(fromMap).toEqual(fromObject);
    expect(fromObject.vocabSize).toBe(512);
    expect(fromObject.headDim).toBe(8);
    expect(fromObject.tiedEmbeddings).toBe(false); // no tensor list: a separate head is assumed, and noted
    expect(fromObject.notes?.[0]).toMatch(/assumed/);
    expectSameMemory({ ...fromObject, notes: [] }, { ...preset("stories260k"), notes: [] });
  });

  it("sums a tensor list per type: Q4_0 blocks of 32 in 18 B, Q6_K blocks of 256 in 210 B", () => {
    const tensors = [
      { name: "token_embd.weight", dims: [64, 512], type: "Q4_0" },
      { name: "output.weight", dims: [256, 512], type: 14 }, // Q6_K by id
      { name: "output_norm.weight", dims: [64], type: "F32" },
    ];
    const m = fromGgufMetadata(llamaMetadata, tensors);
    const e = estimate(m, { context: 1 });
    expect(e.settings.weight_format).toBe("gguf");
    expect(e.bytes.weights).toBe((64 * 512) / 32 * 18 + (256 * 512) / 256 * 210 + 64 * 4);
    expect(e.params.counted_from).toBe("tensors");
  });

  it("reads MoE and MLA keys (deepseek2 style)", () => {
    const m = fromGgufMetadata({
      "general.architecture": "deepseek2",
      "deepseek2.block_count": 61,
      "deepseek2.embedding_length": 7168,
      "deepseek2.attention.head_count": 128,
      "deepseek2.attention.head_count_kv": 1,
      "deepseek2.attention.key_length": 576,
      "deepseek2.attention.value_length": 512,
      "deepseek2.attention.key_length_mla": 192,
      "deepseek2.attention.value_length_mla": 128,
      "deepseek2.attention.kv_lora_rank": 512,
      "deepseek2.attention.q_lora_rank": 1536,
      "deepseek2.rope.dimension_count": 64,
      "deepseek2.feed_forward_length": 18432,
      "deepseek2.expert_feed_forward_length": 2048,
      "deepseek2.expert_count": 256,
      "deepseek2.expert_used_count": 8,
      "deepseek2.expert_shared_count": 1,
      "deepseek2.leading_dense_block_count": 3,
      "deepseek2.context_length": 163840,
      "deepseek2.vocab_size": 129280,
    });
    expect(m.mla).toEqual({ kvLoraRank: 512, qkRopeHeadDim: 64, qkNopeHeadDim: 128, vHeadDim: 128, qLoraRank: 1536 });
    expect(m.moe?.denseLayersFirst).toBe(3);
    expect(estimate(m, { context: 1 }).kv_bytes_per_token).toBe(70272);
    // the GGUF route misses only the router bias (no tensor list to see exp_probs_b): 58 × 256 values
    expect(countParams(preset("deepseek-v3")).total - countParams(m).total).toBe(58 * 256);
  });

  it("names what is missing", () => {
    expect(() => fromGgufMetadata({})).toThrow(/general.architecture/);
    expect(() => fromGgufMetadata({ "general.architecture": "llama" })).toThrow(/llama.block_count/);
  });

  const real = join(modelsDir, "stories260K-q4_0.gguf");
  it.skipIf(!existsSync(real))("a real GGUF: weights equal the Σ of its tensors' byte lengths", async () => {
    for (const file of ["stories260K.gguf", "stories260K-q8_0.gguf", "stories260K-q4_0.gguf"]) {
      const source = await fileSource(join(modelsDir, file));
      const header = await readGgufHeader(source);
      await source.close?.();
      const tensors = header.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type as number }));
      const m = fromGgufMetadata(Object.fromEntries(header.metadata), tensors);
      const e = estimate(m, { context: 2048 });
      expect(e.bytes.weights).toBe(header.tensors.reduce((sum, t) => sum + t.byteLength, 0));
      expect(e.params.total).toBe(292_800);
      expect(m.tiedEmbeddings).toBe(false); // it has output.weight
      expect(e.kv_bytes_per_token).toBe(2 * 5 * 4 * 8 * 2);
    }
  });
});
