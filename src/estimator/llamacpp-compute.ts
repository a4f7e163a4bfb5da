// llama.cpp's compute buffer on the CPU backend: the high-water mark of ggml's graph allocator
// (ggml/src/ggml-alloc.c, ggml_gallocr) over the worst-case graph llama-context.cpp reserves
// (graph_reserve: n_tokens = n_ubatch, every token an output, n_kv = all cells). The allocator frees a
// tensor after its last use and reuses memory in place where an op allows (softmax writes over KQ), so the
// buffer is the largest set of tensors alive at one time. For a llama-layout decoder (src/models/llama.cpp,
// src/llama-graph.cpp build_attn) with T = n_ubatch tokens, n_kv cells, h hidden, H heads, K KV heads of
// d values, f FFN width, V vocabulary — f32 activations — three moments compete:
//   attention without flash:  KQ scores n_kv × T × H × 4 + mask n_kv × T × 4 + (5h + 2·K·d) × T × 4
//   FFN:                      mask + (3f + 4h) × T × 4        (with flash attention the mask is f16: n_kv × T × 2)
//   output:                   logits V × T × 4 + 3h × T × 4 + out_ids T × 4
// plus the small inputs every step holds (token ids, positions, K/V cell indices: T × 28 B) in the first two.
// The per-token constants (5h + 2Kd, 3f + 4h, 3h) count the activations alive at that moment; they were read
// off llama.cpp's reports for three shapes (bench/validate-llamacpp.ts shows every point). Where they miss, it is
// the allocator placing a tensor into a hole an earlier one left: at the output moment one of the three
// hidden-wide buffers often fits into freed space (flash attention with an f16 cache, short contexts), so the
// prediction is up to h × T × 4 high (+3.0% on the 8B shape); with a quantized cache the FFN moment is ~h × T × 4
// smaller. Only the maximum of the three is the buffer, and for real vocabularies that is the output or,
// without flash attention at long contexts, the attention scores.

import type { ModelDescription } from "./model.js";

export interface LlamaCppCompute {
  bytes: number;
  moments: { attention: number; ffn: number; output: number };
  formulas: string[];
}

export function llamaCppCompute(model: ModelDescription, s: { cells: number; ubatch: number; flashAttention: boolean }): LlamaCppCompute {
  const T = s.ubatch;
  const n = s.cells;
  const h = model.hiddenSize;
  const H = model.heads;
  const Kd = model.kvHeads * model.headDim;
  const f = model.moe ? model.moe.expertFfnSize : model.ffnSize;
  const inputs = T * 28;
  const mask = n * T * (s.flashAttention ? 2 : 4);
  const attention = s.flashAttention ? 0 : n * T * H * 4 + mask + (5 * h + 2 * Kd) * T * 4 + inputs;
  const ffn = mask + (3 * f + 4 * h) * T * 4 + inputs;
  const output = model.vocabSize * T * 4 + 3 * h * T * 4 + T * 4;
  const bytes = Math.max(attention, ffn, output);
  const formulas = [
    `llama.cpp compute (T = ${T} tokens per ubatch, ${n} cells, flash attention ${s.flashAttention ? "on" : "off"}): ` +
      (s.flashAttention ? "" : `attention ${n}×${T}×${H}×4 + mask + (5×${h} + 2×${Kd})×${T}×4 = ${attention} B; `) +
      `FFN mask + (3×${f} + 4×${h})×${T}×4 = ${ffn} B; output ${model.vocabSize}×${T}×4 + 3×${h}×${T}×4 = ${output} B; ` +
      `buffer = the largest = ${bytes} B`,
  ];
  return { bytes, moments: { attention, ffn, output }, formulas };
}
