// The model's tensors, derived from its description: every matrix and vector with its shape, how many
// copies exist (layers × experts) and how many one token touches. Parameter counts and weight bytes are
// both sums over this list, so they cannot disagree.
//
// A matrix is `rows` rows of `rowLength` values (rowLength = input features, the axis quantization
// blocks run along). Per layer, for a Llama-style block (h = hidden, d = head_dim, H = heads, K = KV heads):
//   attn_q  H·d × h     attn_k  K·d × h     attn_v  K·d_v × h     attn_output  h × H·d_v
//   ffn_gate f × h      ffn_up  f × h       ffn_down h × f        2 norm vectors of h
// MLA replaces q/k/v with: q_a r_q × h, q_a_norm r_q, q_b H·(d_nope+d_rope) × r_q,
//   kv_a (r_kv + d_rope) × h, kv_a_norm r_kv, kv_b H·(d_nope+d_v) × r_kv.
// A MoE layer replaces the FFN with: router E × h (+ E bias), E experts of (gate, up, down) with width f_e,
// and shared experts of total width f_s.

import { layerPlan } from "./layers.js";
import { queryHeadDim, valueHeadDim, type ModelDescription } from "./model.js";

export type TensorGroup =
  "embedding" | "output" | "attention" | "norms" | "ffn" | "router" | "experts" | "shared_experts" | "other";

/** How tensor parallelism cuts a tensor:
 *  rows        column-parallel: each GPU holds rows/t (q, gate, up, vocab-split embedding and output)
 *  row_length  row-parallel: each GPU holds rowLength/t of every row (attn_output, ffn_down)
 *  kv_rows     rows are KV heads: each GPU holds max(K/t, 1) heads (K < t: replicated)
 *  replicated  every GPU holds all of it (norms, router, MLA's down-projections) */
export type TpSplit = "rows" | "row_length" | "kv_rows" | "replicated";

export interface InventoryTensor {
  group: TensorGroup;
  name: string;
  rows: number;
  rowLength: number;
  isVector: boolean;
  /** Instances in the model. */
  copies: number;
  /** Instances one token's forward pass reads. */
  activeCopies: number;
  split: TpSplit;
}

export function modelInventory(model: ModelDescription): InventoryTensor[] {
  const h = model.hiddenSize;
  const H = model.heads;
  const dq = queryHeadDim(model);
  const dv = valueHeadDim(model);
  const plan = layerPlan(model);
  const L = model.layers;
  const denseLayers = plan.filter((l) => l.ffn === "dense").length;
  const moeLayers = L - denseLayers;
  const normVectors = model.normKind === "layer" ? 2 : 1; // weight (+ bias)
  const list: InventoryTensor[] = [];

  const matrix = (group: TensorGroup, name: string, rows: number, rowLength: number, copies: number, split: TpSplit,
    activeCopies = copies) => {
    if (copies > 0 && rows > 0 && rowLength > 0) {
      list.push({ group, name, rows, rowLength, isVector: false, copies, activeCopies, split });
    }
  };
  const vector = (group: TensorGroup, name: string, length: number, copies: number, split: TpSplit = "replicated") => {
    if (copies > 0 && length > 0) {
      list.push({ group, name, rows: 1, rowLength: length, isVector: true, copies, activeCopies: copies, split });
    }
  };

  matrix("embedding", "token_embd", model.vocabSize, h, 1, "rows");
  if (!model.tiedEmbeddings) matrix("output", "output", model.vocabSize, h, 1, "rows");
  vector("norms", "output_norm", h, normVectors);

  if (model.mla) {
    const mla = model.mla;
    if (mla.qLoraRank > 0) {
      matrix("attention", "attn_q_a", mla.qLoraRank, h, L, "replicated");
      vector("norms", "attn_q_a_norm", mla.qLoraRank, L);
      matrix("attention", "attn_q_b", H * dq, mla.qLoraRank, L, "rows");
    } else {
      matrix("attention", "attn_q", H * dq, h, L, "rows");
    }
    matrix("attention", "attn_kv_a_mqa", mla.kvLoraRank + mla.qkRopeHeadDim, h, L, "replicated");
    vector("norms", "attn_kv_a_norm", mla.kvLoraRank, L);
    matrix("attention", "attn_kv_b", H * (mla.qkNopeHeadDim + dv), mla.kvLoraRank, L, "rows");
  } else {
    const K = model.kvHeads;
    matrix("attention", "attn_q", H * dq, h, L, "rows");
    matrix("attention", "attn_k", K * dq, h, L, "kv_rows");
    matrix("attention", "attn_v", K * dv, h, L, "kv_rows");
    if (model.qkvBias) {
      vector("attention", "attn_q_bias", H * dq, L, "rows");
      vector("attention", "attn_k_bias", K * dq, L, "kv_rows");
      vector("attention", "attn_v_bias", K * dv, L, "kv_rows");
    }
  }
  matrix("attention", "attn_output", h, H * dv, L, "row_length");
  if (model.qkNorm) {
    vector("norms", "attn_q_norm", dq, L);
    vector("norms", "attn_k_norm", dq, L);
  }
  vector("norms", "layer_norms", h, L * (model.normsPerLayer ?? 2) * normVectors);

  const gated = model.ffnGated ?? true;
  const ffnMatrices = (group: TensorGroup, prefix: string, width: number, copies: number, activeCopies: number) => {
    if (gated) matrix(group, `${prefix}_gate`, width, h, copies, "rows", activeCopies);
    matrix(group, `${prefix}_up`, width, h, copies, "rows", activeCopies);
    matrix(group, `${prefix}_down`, h, width, copies, "row_length", activeCopies);
  };
  ffnMatrices("ffn", "ffn", model.ffnSize, denseLayers, denseLayers);
  if (model.moe && moeLayers > 0) {
    const moe = model.moe;
    matrix("router", "ffn_gate_inp", moe.experts, h, moeLayers, "replicated");
    if (moe.routerBias) vector("router", "ffn_router_bias", moe.experts, moeLayers);
    ffnMatrices("experts", "ffn_exps", moe.expertFfnSize, moeLayers * moe.experts, moeLayers * moe.expertsPerToken);
    ffnMatrices("shared_experts", "ffn_shexp", moe.sharedFfnSize, moeLayers, moeLayers);
  }
  return list;
}

export function tensorElements(tensor: InventoryTensor): number {
  return tensor.rows * tensor.rowLength;
}
