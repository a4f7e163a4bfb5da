// Llama and the models converted as llama: Llama 2/3.x (Llama 3.1+ with rope_freqs), SmolLM/SmolLM2,
// Mistral (a sliding window on every layer when the file states one). Attention biases are optional,
// as llama.cpp loads them.

import type { ArchitectureDescription } from "../architecture.js";

const llama: ArchitectureDescription = {
  names: ["llama", "mistral"],
  rope: "normal",
  activation: "silu",
  fusedQkv: false,
  fusedGateUp: false,
  qkNorm: false,
  postNorms: false,
  biases: { required: [], optional: ["attn_q.bias", "attn_k.bias", "attn_v.bias", "attn_output.bias"] },
  scaleEmbedding: false,
  ropeFactors: "rope_freqs",
};

export default llama;
