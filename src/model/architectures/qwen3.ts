// Qwen3 (dense): no biases; q and k are RMS-normalized per head before NeoX RoPE.

import type { ArchitectureDescription } from "../architecture.js";

const qwen3: ArchitectureDescription = {
  names: ["qwen3"],
  rope: "neox",
  activation: "silu",
  fusedQkv: false,
  fusedGateUp: false,
  qkNorm: true,
  postNorms: false,
  biases: { required: [], optional: [] },
  scaleEmbedding: false,
  ropeFactors: "none",
};

export default qwen3;
