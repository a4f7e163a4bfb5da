// Gemma 3 (text): Gemma 2's block with per-head q/k RMSNorm and no soft-capping; five sliding-window
// layers to one global layer, the local layers with their own RoPE base (10000, unscaled), the global
// layers with the file's base and scaling. The 27B model (62 layers) scales queries by 1/√(dim/heads).

import type { ArchitectureDescription } from "../architecture.js";
import { gemmaQueryScale } from "./gemma2.js";

const gemma3: ArchitectureDescription = {
  names: ["gemma3"],
  rope: "neox",
  activation: "gelu_tanh",
  fusedQkv: false,
  fusedGateUp: false,
  qkNorm: true,
  postNorms: true,
  biases: { required: [], optional: [] },
  scaleEmbedding: true,
  attentionScale: (shape) => gemmaQueryScale(shape, 62),
  slidingWindowLayer: (layer) => layer % 6 < 5,
  localRopeBase: 10000,
  ropeFactors: "none",
};

export default gemma3;
