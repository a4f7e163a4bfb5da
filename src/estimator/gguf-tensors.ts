// A GGUF tensor's role, read from its name (llama.cpp's naming: token_embd, output, blk.N.attn_q, ...):
// which group it counts in and how tensor parallelism cuts it (see inventory.ts for the split kinds).

import type { TensorGroup, TpSplit } from "./inventory.js";

export interface TensorRole {
  group: TensorGroup;
  split: TpSplit;
}

export function ggufTensorRole(name: string): TensorRole {
  const base = name.replace(/^blk\.\d+\./, "").replace(/\.(weight|bias)$/, "");
  if (base === "token_embd") return { group: "embedding", split: "rows" };
  if (base === "output") return { group: "output", split: "rows" };
  if (base.endsWith("_norm") || base.includes("_norm_")) return { group: "norms", split: "replicated" };
  if (base === "ffn_gate_inp" || base === "exp_probs_b") return { group: "router", split: "replicated" };
  if (base.endsWith("_exps")) return { group: "experts", split: base.startsWith("ffn_down") ? "row_length" : "rows" };
  if (base.endsWith("_shexp")) return { group: "shared_experts", split: base.startsWith("ffn_down") ? "row_length" : "rows" };
  if (base.startsWith("ffn_")) return { group: "ffn", split: base === "ffn_down" ? "row_length" : "rows" };
  if (base === "attn_k" || base === "attn_v") return { group: "attention", split: "kv_rows" };
  if (base === "attn_output") return { group: "attention", split: "row_length" };
  if (base === "attn_q_a" || base === "attn_kv_a_mqa") return { group: "attention", split: "replicated" };
  if (base.startsWith("attn_")) return { group: "attention", split: "rows" };
  return { group: "other", split: "replicated" };
}

export function tensorElementCount(dims: readonly number[]): number {
  return dims.reduce((product, dim) => product * dim, 1);
}
