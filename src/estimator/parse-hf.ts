// A Hugging Face config.json (already parsed) → ModelDescription.
// Families: llama, mistral, mixtral, qwen2, qwen3, deepseek_v2/v3 and kimi_k2 (MLA + MoE), gemma/gemma2/gemma3.
// Configs that wrap the language model in `text_config` (Gemma-3, Kimi-K2.5) are unwrapped.
// Field defaults follow transformers' config classes: num_key_value_heads = num_attention_heads,
// head_dim = hidden_size / num_attention_heads, tie_word_embeddings false (true for Gemma).

import { EstimatorError } from "./errors.js";
import { allLocalLayers, alternatingLocalLayers, patternLocalLayers } from "./layers.js";
import type { ModelDescription, MoeSpec, SlidingWindowSpec } from "./model.js";

type Json = Record<string, unknown>;

function num(config: Json, key: string): number | undefined {
  const value = config[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new EstimatorError(`config.json: "${key}" should be a number, found ${JSON.stringify(value)}`);
  }
  return value;
}

function need(config: Json, key: string, ...aliases: string[]): number {
  for (const k of [key, ...aliases]) {
    const value = num(config, k);
    if (value !== undefined) return value;
  }
  throw new EstimatorError(`config.json: "${key}" is missing`);
}

export function fromHfConfig(input: unknown, name?: string): ModelDescription {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new EstimatorError("config.json: expected a JSON object");
  }
  const outer = input as Json;
  const config = (typeof outer.text_config === "object" && outer.text_config !== null ? outer.text_config : outer) as Json;
  const type = String(config.model_type ?? outer.model_type ?? "unknown");
  const gemma = type.startsWith("gemma");
  const notes: string[] = [];

  const layers = need(config, "num_hidden_layers", "n_layer", "num_layers");
  const hidden = need(config, "hidden_size", "n_embd", "d_model");
  const heads = need(config, "num_attention_heads", "n_head");
  const kvHeads = num(config, "num_key_value_heads") ?? heads;
  const headDim = num(config, "head_dim") ?? hidden / heads;
  const ffn = num(config, "intermediate_size") ?? num(config, "n_inner") ?? 4 * hidden;
  const vocab = need(config, "vocab_size");
  const context = num(config, "max_position_embeddings") ?? num(config, "n_positions") ?? num(config, "seq_length") ?? 2048;
  const tied = typeof config.tie_word_embeddings === "boolean" ? config.tie_word_embeddings
    : typeof outer.tie_word_embeddings === "boolean" ? outer.tie_word_embeddings : gemma;

  const model: ModelDescription = {
    name: name ?? String((outer._name_or_path as string | undefined) ?? type),
    architecture: type,
    source: "config.json",
    notes,
    layers,
    hiddenSize: hidden,
    heads,
    kvHeads,
    headDim,
    ffnSize: ffn,
    vocabSize: vocab,
    tiedEmbeddings: tied,
    contextLength: context,
    qkvBias: type === "qwen2" || type === "qwen2_moe" || config.attention_bias === true,
    qkNorm: type === "qwen3" || type === "qwen3_moe" || type === "gemma3_text" || type === "gemma3",
    normsPerLayer: type === "gemma2" || type.startsWith("gemma3") ? 4 : 2,
  };

  const kvLoraRank = num(config, "kv_lora_rank");
  if (kvLoraRank !== undefined) {
    const qkNope = need(config, "qk_nope_head_dim");
    const qkRope = need(config, "qk_rope_head_dim");
    const v = need(config, "v_head_dim");
    model.mla = { kvLoraRank, qkRopeHeadDim: qkRope, qkNopeHeadDim: qkNope, vHeadDim: v, qLoraRank: num(config, "q_lora_rank") ?? 0 };
    model.headDim = qkNope + qkRope;
    model.vHeadDim = v;
    model.kvHeads = heads;
  }

  model.moe = moeOf(config, ffn, layers);
  const mtp = num(config, "num_nextn_predict_layers");
  if (mtp) model.mtpLayers = mtp;
  model.slidingWindow = windowOf(config, type, layers, notes);
  return model;
}

function moeOf(config: Json, ffn: number, layers: number): MoeSpec | undefined {
  const experts = num(config, "n_routed_experts") ?? num(config, "num_local_experts") ?? num(config, "num_experts");
  if (!experts) return undefined;
  const expertFfn = num(config, "moe_intermediate_size") ?? ffn;
  const sharedCount = num(config, "n_shared_experts") ?? 0;
  const sharedFfn = num(config, "shared_expert_intermediate_size") ?? sharedCount * expertFfn;
  const denseFirst = num(config, "first_k_dense_replace") ?? 0;
  if ((num(config, "moe_layer_freq") ?? 1) !== 1) {
    throw new EstimatorError("config.json: moe_layer_freq other than 1 (MoE on every other layer) is not supported");
  }
  return {
    experts,
    expertsPerToken: need(config, "num_experts_per_tok"),
    expertFfnSize: expertFfn,
    sharedFfnSize: sharedFfn,
    denseLayersFirst: Math.min(denseFirst, layers),
    routerBias: config.topk_method === "noaux_tc",
  };
}

/** Which layers slide, from (newest first) layer_types, Gemma's patterns, Qwen2's max_window_layers, or all. */
function windowOf(config: Json, type: string, layers: number, notes: string[]): SlidingWindowSpec | undefined {
  const size = num(config, "sliding_window");
  if (!size) return undefined;
  if (config.use_sliding_window === false) {
    notes.push(`sliding_window ${size} is ignored: use_sliding_window is false`);
    return undefined;
  }
  if (Array.isArray(config.layer_types)) {
    const types = config.layer_types as unknown[];
    if (types.length !== layers) throw new EstimatorError(`config.json: layer_types has ${types.length} entries for ${layers} layers`);
    return { size, localLayers: types.map((t) => t === "sliding_attention") };
  }
  if (type === "gemma2") return { size, localLayers: alternatingLocalLayers(layers) };
  if (type.startsWith("gemma3")) {
    const pattern = num(config, "sliding_window_pattern") ?? 6;
    return { size, localLayers: patternLocalLayers(layers, pattern - 1) };
  }
  if (config.use_sliding_window === true) {
    const fullLayers = num(config, "max_window_layers") ?? 0;
    return { size, localLayers: Array.from({ length: layers }, (_, i) => i >= fullLayers) };
  }
  return { size, localLayers: allLocalLayers(layers) };
}
