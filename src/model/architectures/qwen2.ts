// Qwen2 / Qwen2.5: Llama's block with biases on the q, k and v projections and NeoX RoPE.

import type { ArchitectureDescription } from "../architecture.js";

const qwen2: ArchitectureDescription = {
  names: ["qwen2"],
  rope: "neox",
  activation: "silu",
  fusedQkv: false,
  fusedGateUp: false,
  qkNorm: false,
  postNorms: false,
  biases: { required: ["attn_q.bias", "attn_k.bias", "attn_v.bias"], optional: [] },
  scaleEmbedding: false,
  ropeFactors: "none",
};

export default qwen2;
