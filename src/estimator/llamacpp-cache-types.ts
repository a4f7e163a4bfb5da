// llama.cpp's KV cache types (-ctk / -ctv, common/arg.cpp's kv_cache_types in llama.cpp v0.5.0 as bundled by
// node-llama-cpp 3.22.1): f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1. A cached K (or V) row of one layer
// is the n_embd_k_gqa = kvHeads × headDim values of one token, stored as one ggml row:
//   row bytes = ggml_row_size(type, kvHeads × headDim) = (values / blockElements) × blockBytes
// Quantized types need headDim to be a whole number of blocks (llama.cpp refuses the context otherwise),
// and a quantized V cache needs flash attention (llama-context.cpp: "V cache quantization requires flash_attn").

import { EstimatorError } from "./errors.js";
import { ggmlTensorBytes, ggmlTypeLayout } from "./weight-formats.js";

export const LLAMACPP_CACHE_TYPES = ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "iq4_nl", "q5_0", "q5_1"] as const;
export type LlamaCppCacheType = (typeof LLAMACPP_CACHE_TYPES)[number];

export function llamaCppCacheType(name: string): LlamaCppCacheType {
  const wanted = name.toLowerCase();
  const found = LLAMACPP_CACHE_TYPES.find((t) => t === wanted);
  if (!found) throw new EstimatorError(`llama.cpp has no KV cache type "${name}" (it takes ${LLAMACPP_CACHE_TYPES.join(", ")})`);
  return found;
}

export function isQuantizedCacheType(type: LlamaCppCacheType): boolean {
  return !["f32", "f16", "bf16"].includes(type);
}

/** Bytes of one token's row of `values` values in a llama.cpp cache of `type`; refuses rows that are not whole blocks. */
export function llamaCppCacheRowBytes(type: LlamaCppCacheType, values: number, headDim: number): number {
  const layout = ggmlTypeLayout(type);
  if (headDim % layout.blockElements !== 0) {
    throw new EstimatorError(`llama.cpp cannot store a ${type} cache for heads of ${headDim} values: not whole blocks of ${layout.blockElements}`);
  }
  return ggmlTensorBytes(type, values);
}
