// Models by id, with the numbers of their published config.json (or GGUF / llama2.c checkpoint).
// Each names its source and anything assumed. Parameter counts are checked against the published sizes
// in tests/estimator/params.test.ts.

import { EstimatorError } from "./errors.js";
import { allLocalLayers } from "./layers.js";
import type { ModelDescription } from "./model.js";

interface DenseShape {
  name: string;
  architecture?: string;
  source: string;
  notes?: string[];
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  ffn: number;
  vocab: number;
  context: number;
  tied: boolean;
  qkvBias?: boolean;
  headDim?: number;
}

function dense(shape: DenseShape): ModelDescription {
  return {
    name: shape.name,
    architecture: shape.architecture ?? "llama",
    source: shape.source,
    notes: shape.notes,
    layers: shape.layers,
    hiddenSize: shape.hidden,
    heads: shape.heads,
    kvHeads: shape.kvHeads,
    headDim: shape.headDim ?? shape.hidden / shape.heads,
    ffnSize: shape.ffn,
    vocabSize: shape.vocab,
    tiedEmbeddings: shape.tied,
    contextLength: shape.context,
    qkvBias: shape.qkvBias,
  };
}

const hf = (repo: string) => `https://huggingface.co/${repo}/blob/main/config.json`;

const llama2_7b = dense({
  name: "Llama-2-7B", source: hf("meta-llama/Llama-2-7b-hf"),
  layers: 32, hidden: 4096, heads: 32, kvHeads: 32, ffn: 11008, vocab: 32000, context: 4096, tied: false,
});
const llama2_70b = dense({
  name: "Llama-2-70B", source: hf("meta-llama/Llama-2-70b-hf"),
  layers: 80, hidden: 8192, heads: 64, kvHeads: 8, ffn: 28672, vocab: 32000, context: 4096, tied: false,
});
const llama3_8b = dense({
  name: "Llama-3-8B", source: hf("meta-llama/Meta-Llama-3-8B"),
  notes: ["trained for 8192 tokens; Llama-3.1-8B has the same shapes with a 131072-token context"],
  layers: 32, hidden: 4096, heads: 32, kvHeads: 8, ffn: 14336, vocab: 128256, context: 8192, tied: false,
});
const llama3_70b = dense({
  name: "Llama-3-70B", source: hf("meta-llama/Meta-Llama-3-70B"),
  notes: ["trained for 8192 tokens; Llama-3.1-70B has the same shapes with a 131072-token context"],
  layers: 80, hidden: 8192, heads: 64, kvHeads: 8, ffn: 28672, vocab: 128256, context: 8192, tied: false,
});
const llama31_405b = dense({
  name: "Llama-3.1-405B", source: hf("meta-llama/Llama-3.1-405B"),
  layers: 126, hidden: 16384, heads: 128, kvHeads: 8, ffn: 53248, vocab: 128256, context: 131072, tied: false,
});
const mistral7b: ModelDescription = {
  ...dense({
    name: "Mistral-7B-v0.1", architecture: "mistral", source: hf("mistralai/Mistral-7B-v0.1"),
    notes: ["sliding_window 4096 on every layer (v0.1; v0.2 and later drop the window)"],
    layers: 32, hidden: 4096, heads: 32, kvHeads: 8, ffn: 14336, vocab: 32000, context: 32768, tied: false,
  }),
  slidingWindow: { size: 4096, localLayers: allLocalLayers(32) },
};
const mixtral8x7b: ModelDescription = {
  ...dense({
    name: "Mixtral-8x7B-v0.1", architecture: "mixtral", source: hf("mistralai/Mixtral-8x7B-v0.1"),
    notes: ["8 experts of intermediate 14336, 2 per token, every layer MoE; no sliding window (sliding_window null)"],
    layers: 32, hidden: 4096, heads: 32, kvHeads: 8, ffn: 14336, vocab: 32000, context: 32768, tied: false,
  }),
  moe: { experts: 8, expertsPerToken: 2, expertFfnSize: 14336, sharedFfnSize: 0, denseLayersFirst: 0, routerBias: false },
};
const qwenNote = "use_sliding_window is false in the config, so sliding_window is ignored; q/k/v projections carry biases";
const qwen25_05b = dense({
  name: "Qwen2.5-0.5B", architecture: "qwen2", source: hf("Qwen/Qwen2.5-0.5B"), notes: [qwenNote],
  layers: 24, hidden: 896, heads: 14, kvHeads: 2, ffn: 4864, vocab: 151936, context: 32768, tied: true, qkvBias: true,
});
const qwen25_7b = dense({
  name: "Qwen2.5-7B", architecture: "qwen2", source: hf("Qwen/Qwen2.5-7B"), notes: [qwenNote],
  layers: 28, hidden: 3584, heads: 28, kvHeads: 4, ffn: 18944, vocab: 152064, context: 131072, tied: false, qkvBias: true,
});
const qwen25_72b = dense({
  name: "Qwen2.5-72B", architecture: "qwen2", source: hf("Qwen/Qwen2.5-72B"), notes: [qwenNote],
  layers: 80, hidden: 8192, heads: 64, kvHeads: 8, ffn: 29568, vocab: 152064, context: 131072, tied: false, qkvBias: true,
});

/** DeepSeek-V3 and Kimi K2 share one design: MLA attention, 1 shared + 8-of-N routed experts of width 2048. */
function deepseekV3Like(name: string, architecture: string, source: string, shape: {
  heads: number; experts: number; denseLayersFirst: number; vocab: number; context: number; mtpLayers: number; notes: string[];
}): ModelDescription {
  return {
    name, architecture, source, notes: shape.notes,
    layers: 61, hiddenSize: 7168, heads: shape.heads, kvHeads: shape.heads,
    headDim: 128 + 64, vHeadDim: 128, ffnSize: 18432, vocabSize: shape.vocab, tiedEmbeddings: false,
    contextLength: shape.context,
    mla: { kvLoraRank: 512, qkRopeHeadDim: 64, qkNopeHeadDim: 128, vHeadDim: 128, qLoraRank: 1536 },
    moe: {
      experts: shape.experts, expertsPerToken: 8, expertFfnSize: 2048, sharedFfnSize: 2048,
      denseLayersFirst: shape.denseLayersFirst, routerBias: true,
    },
    mtpLayers: shape.mtpLayers,
  };
}
const deepseekV3 = deepseekV3Like("DeepSeek-V3", "deepseek_v3", hf("deepseek-ai/DeepSeek-V3"), {
  heads: 128, experts: 256, denseLayersFirst: 3, vocab: 129280, context: 163840, mtpLayers: 1,
  notes: ["router carries e_score_correction_bias (topk_method noaux_tc); the published 671B leaves out the MTP layer, as this count does"],
});
const kimiK2 = deepseekV3Like("Kimi-K2", "kimi_k2", hf("moonshotai/Kimi-K2-Instruct"), {
  heads: 64, experts: 384, denseLayersFirst: 1, vocab: 163840, context: 131072, mtpLayers: 0,
  notes: ["DeepSeek-V3 design with 64 heads, 384 experts, 1 leading dense layer; num_nextn_predict_layers = 0"],
});

const smollm2_135m = dense({
  name: "SmolLM2-135M", source: hf("HuggingFaceTB/SmolLM2-135M"),
  layers: 30, hidden: 576, heads: 9, kvHeads: 3, ffn: 1536, vocab: 49152, context: 8192, tied: true,
});
const smollm2_17b = dense({
  name: "SmolLM2-1.7B", source: hf("HuggingFaceTB/SmolLM2-1.7B"),
  layers: 24, hidden: 2048, heads: 32, kvHeads: 32, ffn: 8192, vocab: 49152, context: 8192, tied: true,
});
const tinyllama = dense({
  name: "TinyLlama-1.1B", source: hf("TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T"),
  layers: 22, hidden: 2048, heads: 32, kvHeads: 4, ffn: 5632, vocab: 32000, context: 2048, tied: false,
});
const stories260k = dense({
  name: "stories260K", source: "stories260K.gguf (karpathy/tinyllamas, as llama.cpp's CI uses it)",
  notes: ["the GGUF stores output.weight separately (a copy of the embedding): 292,800 parameters as loaded, " +
    "260,032 unique (llama2.c's shared classifier)", "context 2048 as the GGUF says; trained at seq_len 512"],
  layers: 5, hidden: 64, heads: 8, kvHeads: 4, ffn: 172, vocab: 512, context: 2048, tied: false,
});
const stories15m = dense({
  name: "stories15M", source: "karpathy/llama2.c stories15M.bin (dim 288, n_layers 6, n_heads 6, seq_len 256)",
  notes: ["llama2.c shares the classifier with the embedding (tied); n_kv_heads = n_heads"],
  layers: 6, hidden: 288, heads: 6, kvHeads: 6, ffn: 768, vocab: 32000, context: 256, tied: true,
});
const stories110m = dense({
  name: "stories110M", source: "karpathy/llama2.c stories110M.bin (dim 768, n_layers 12, n_heads 12, seq_len 1024)",
  notes: ["llama2.c shares the classifier with the embedding (tied); n_kv_heads = n_heads"],
  layers: 12, hidden: 768, heads: 12, kvHeads: 12, ffn: 2048, vocab: 32000, context: 1024, tied: true,
});

export const PRESETS: Readonly<Record<string, ModelDescription>> = {
  "llama-2-7b": llama2_7b,
  "llama-2-70b": llama2_70b,
  "llama-3-8b": llama3_8b,
  "llama-3-70b": llama3_70b,
  "llama-3.1-405b": llama31_405b,
  "mistral-7b": mistral7b,
  "mixtral-8x7b": mixtral8x7b,
  "qwen2.5-0.5b": qwen25_05b,
  "qwen2.5-7b": qwen25_7b,
  "qwen2.5-72b": qwen25_72b,
  "deepseek-v3": deepseekV3,
  "kimi-k2": kimiK2,
  "smollm2-135m": smollm2_135m,
  "smollm2-1.7b": smollm2_17b,
  "tinyllama-1.1b": tinyllama,
  "stories260k": stories260k,
  "stories15m": stories15m,
  "stories110m": stories110m,
};

export function preset(id: string): ModelDescription {
  const found = PRESETS[id.toLowerCase()];
  if (!found) throw new EstimatorError(`unknown preset "${id}" (known: ${Object.keys(PRESETS).join(", ")})`);
  return found;
}
