// Gemma 2: embeddings × √dim, RMSNorm before and after both the attention and the FFN (GGUF stores the
// norm weights with Gemma's +1 already added, so they are plain RMSNorm weights), GELU-tanh gated FFN,
// attention and final logits soft-capped (defaults 50 and 30), sliding window on even layers.
// The 27B model (46 layers) scales queries by 1/√(dim/heads) instead of 1/√head_dim.

import type { ArchitectureDescription, ArchitectureShape } from "../architecture.js";

export function gemmaQueryScale(shape: ArchitectureShape, layersOf27B: number): number {
  return shape.layers === layersOf27B ? 1 / Math.sqrt(shape.dim / shape.qHeads) : 1 / Math.sqrt(shape.headDim);
}

const gemma2: ArchitectureDescription = {
  names: ["gemma2"],
  rope: "neox",
  activation: "gelu_tanh",
  fusedQkv: false,
  fusedGateUp: false,
  qkNorm: false,
  postNorms: true,
  biases: { required: [], optional: [] },
  scaleEmbedding: true,
  softcap: { attention: 50, final: 30 },
  attentionScale: (shape) => gemmaQueryScale(shape, 46),
  slidingWindowLayer: (layer) => layer % 2 === 0,
  ropeFactors: "none",
};

export default gemma2;
