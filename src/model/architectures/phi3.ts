// Phi-3 / Phi-3.5: one fused attn_qkv tensor, ffn_up holding gate then up, NeoX RoPE over the first
// rope.dimension_count dims of each head (partial rotary), LongRoPE factors (rope_factors_short / _long)
// with their attention factor. llama.cpp runs Phi-3 without its sliding window; so do we.

import type { ArchitectureDescription } from "../architecture.js";

const phi3: ArchitectureDescription = {
  names: ["phi3"],
  rope: "neox",
  activation: "silu",
  fusedQkv: true,
  fusedGateUp: true,
  qkNorm: false,
  postNorms: false,
  biases: { required: [], optional: [] },
  scaleEmbedding: false,
  ignoreWindow: true,
  ropeFactors: "short_long",
};

export default phi3;
