// Every preset's parameter count against the size its publisher (or Hugging Face's safetensors count) gives.
// Counts are derived from the shapes alone (inventory.ts), so a wrong shape or a forgotten tied embedding shows here.

import { describe, expect, it } from "vitest";
import { countParams, PRESETS, preset } from "../../src/estimator/index.js";

interface Published {
  total: number;
  source: string;
  active?: number;
  /** Which of the two active-parameter conventions the publisher uses. */
  activeConvention?: "with embedding" | "without embedding";
}

const PUBLISHED: Record<string, Published> = {
  "llama-2-7b": { total: 6.74e9, source: "Hugging Face safetensors count for meta-llama/Llama-2-7b-hf (6.74B)" },
  "llama-2-70b": { total: 69.0e9, source: "Hugging Face safetensors count for meta-llama/Llama-2-70b-hf (69B)" },
  "llama-3-8b": { total: 8.03e9, source: "Hugging Face safetensors count for meta-llama/Meta-Llama-3-8B (8.03B)" },
  "llama-3-70b": { total: 70.6e9, source: "Hugging Face safetensors count for meta-llama/Meta-Llama-3-70B (70.6B)" },
  "llama-3.1-405b": { total: 405.9e9, source: "Hugging Face safetensors count for meta-llama/Llama-3.1-405B (405.9B)" },
  "mistral-7b": { total: 7.24e9, source: "Hugging Face safetensors count for mistralai/Mistral-7B-v0.1 (7.24B)" },
  "mixtral-8x7b": {
    total: 46.7e9, active: 12.9e9, activeConvention: "with embedding",
    source: "Mistral AI, \"Mixtral of experts\" announcement: 46.7B total, 12.9B used per token",
  },
  "qwen2.5-0.5b": { total: 0.494e9, source: "Qwen2.5-0.5B model card: 0.49B (safetensors count 494M)" },
  "qwen2.5-7b": { total: 7.62e9, source: "Qwen2.5-7B model card: 7.61B (safetensors count 7.62B)" },
  "qwen2.5-72b": { total: 72.7e9, source: "Qwen2.5-72B model card: 72.7B" },
  "deepseek-v3": {
    total: 671e9, active: 36.6e9, activeConvention: "without embedding",
    source: "DeepSeek-V3 README_WEIGHTS.md: main model 671B, 36.6B activated including the 0.9B output head; " +
      "the 11.5B MTP module is excluded (and so is it here)",
  },
  "kimi-k2": {
    total: 1026.5e9, active: 32e9, activeConvention: "without embedding",
    source: "Hugging Face safetensors count for moonshotai/Kimi-K2-Instruct (1026.5B); model card: 32B activated. " +
      "The tech report's headline 1.04T is 1.3% above what config.json's shapes give",
  },
  "smollm2-135m": { total: 134.5e6, source: "Hugging Face safetensors count for HuggingFaceTB/SmolLM2-135M (134.5M)" },
  "smollm2-1.7b": { total: 1.71e9, source: "Hugging Face safetensors count for HuggingFaceTB/SmolLM2-1.7B (1.71B)" },
  "tinyllama-1.1b": { total: 1.10e9, source: "TinyLlama model card: 1.1B (safetensors count 1.10B)" },
  "stories260k": { total: 292_800, source: "stories260K.gguf: Σ of its 48 tensors' elements (checked against the file in parsers.test.ts)" },
  "stories15m": { total: 15.2e6, source: "karpathy/llama2.c README: 15M (15.2M from dim 288, 6 layers, vocab 32000, tied)" },
  "stories110m": { total: 110e6, source: "karpathy/llama2.c README: 110M" },
};

const within = (value: number, target: number, tolerance: number) => Math.abs(value - target) / target <= tolerance;

describe("preset parameter counts within 1% of the published size", () => {
  it("every preset has a published figure to check against", () => {
    expect(Object.keys(PUBLISHED).sort()).toEqual(Object.keys(PRESETS).sort());
  });

  for (const [id, published] of Object.entries(PUBLISHED)) {
    it(`${id}: ${published.source}`, () => {
      const counts = countParams(preset(id));
      expect(within(counts.total, published.total, 0.01), `${id}: ${counts.total} vs ${published.total}`).toBe(true);
      if (published.active !== undefined) {
        const active = published.activeConvention === "with embedding" ? counts.active : counts.activeExcludingEmbedding;
        expect(within(active, published.active, 0.01), `${id} active: ${active} vs ${published.active}`).toBe(true);
      }
    });
  }
});

describe("exact counts from the shapes (hand arithmetic)", () => {
  it("Llama-2-7B: 2·32000·4096 + 32·(4·4096² + 3·4096·11008 + 2·4096) + 4096 = 6,738,415,616", () => {
    expect(countParams(preset("llama-2-7b")).total).toBe(2 * 32000 * 4096 + 32 * (4 * 4096 ** 2 + 3 * 4096 * 11008 + 2 * 4096) + 4096);
    expect(countParams(preset("llama-2-7b")).total).toBe(6_738_415_616);
  });

  it("Llama-3-8B: GQA k/v are 4096×1024: 8,030,261,248", () => {
    const layer = 2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336 + 2 * 4096;
    expect(countParams(preset("llama-3-8b")).total).toBe(2 * 128256 * 4096 + 32 * layer + 4096);
  });

  it("Qwen2.5-0.5B: tied embedding counted once, q/k/v biases included: 494,032,768", () => {
    const layer = 2 * 896 * 896 + 2 * 896 * 128 + (896 + 2 * 128) + 3 * 896 * 4864 + 2 * 896;
    expect(countParams(preset("qwen2.5-0.5b")).total).toBe(151936 * 896 + 24 * layer + 896);
    // the model card's non-embedding figure, 0.36B
    expect(within(countParams(preset("qwen2.5-0.5b")).total - 151936 * 896, 0.36e9, 0.01)).toBe(true);
  });

  it("Qwen2.5-7B non-embedding count matches the model card's 6.53B", () => {
    const c = countParams(preset("qwen2.5-7b"));
    expect(within(c.total - 2 * 152064 * 3584, 6.53e9, 0.01)).toBe(true);
  });

  it("Mixtral-8x7B: 8 experts resident, 2 active", () => {
    const expert = 3 * 4096 * 14336;
    const attention = 2 * 4096 * 4096 + 2 * 4096 * 1024;
    const router = 8 * 4096;
    const c = countParams(preset("mixtral-8x7b"));
    expect(c.total).toBe(2 * 32000 * 4096 + 32 * (attention + router + 8 * expert + 2 * 4096) + 4096);
    expect(c.active).toBe(2 * 32000 * 4096 + 32 * (attention + router + 2 * expert + 2 * 4096) + 4096);
  });

  it("DeepSeek-V3: MLA + 3 dense + 58 MoE layers = 671,026,419,200; active without embedding = 36,625,618,432", () => {
    const h = 7168;
    const mla = h * 1536 + 1536 + 1536 * 128 * 192 + h * (512 + 64) + 512 + 512 * 128 * (128 + 128) + 128 * 128 * h;
    const expert = 3 * h * 2048;
    const router = 256 * h + 256; // + e_score_correction_bias
    const dense = mla + 2 * h + 3 * h * 18432;
    const moe = mla + 2 * h + router + 256 * expert + expert;
    const c = countParams(preset("deepseek-v3"));
    expect(c.total).toBe(2 * 129280 * h + 3 * dense + 58 * moe + h);
    expect(c.total).toBe(671_026_419_200);
    expect(c.activeExcludingEmbedding).toBe(129280 * h + 3 * dense + 58 * (mla + 2 * h + router + 9 * expert) + h);
    expect(c.activeExcludingEmbedding).toBe(36_625_618_432);
  });

  it("Kimi K2: 1,026,408,232,448 from config.json; the 1.04T headline is 1.3% higher", () => {
    const c = countParams(preset("kimi-k2"));
    expect(c.total).toBe(1_026_408_232_448);
    expect(within(c.total, 1.04e12, 0.01)).toBe(false);
    expect(within(c.total, 1.04e12, 0.014)).toBe(true);
  });

  it("stories260K: 292,800 as the GGUF stores it; 260,032 unique = llama2.c's 260K (its classifier is the embedding)", () => {
    const c = countParams(preset("stories260k"));
    expect(c.total).toBe(292_800);
    const unique = c.total - 512 * 64; // output.weight duplicates token_embd.weight
    expect(unique).toBe(260_032);
    expect(within(unique, 260e3, 0.01)).toBe(true);
  });

  it("stories15M and stories110M (tied): 15,191,712 and 109,529,856", () => {
    expect(countParams(preset("stories15m")).total).toBe(32000 * 288 + 6 * (4 * 288 * 288 + 3 * 288 * 768 + 2 * 288) + 288);
    expect(countParams(preset("stories110m")).total).toBe(32000 * 768 + 12 * (4 * 768 * 768 + 3 * 768 * 2048 + 2 * 768) + 768);
  });
});
