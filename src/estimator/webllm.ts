// The WebLLM profile: the vram_required_MB a WebLLM model record states (mlc-ai/web-llm src/config.ts, measured
// with the repository's utils/vram_requirements on the compiled model library) is
//     parameters + the largest temporary buffer of the compiled functions + the KV cache for the whole
//     context_window_size (allocated when the engine loads, not as tokens arrive)
// in MLC's layouts (mlc-llm python/mlc_llm/quantization):
//     q4f16_1: every matrix (embedding and head included) as 4-bit values with one f16 scale per 32 → 0.5625 B/value,
//              vectors in f16, KV in f16;  q4f32_1: f32 scales (0.625 B/value), vectors and KV in f32;
//     q0f16 / q0f32: unquantized f16 / f32.
// Units, as the catalog's own figures show: two records of the same library (Llama-3.1-8B q4f16_1 at 4096 and
// 1024 tokens: 5001.0 and 4598.34 MB) differ by 402.66 = 3072 tokens × 131072 B / 10^6, so the KV term is
// counted in 10^6-byte MB while the parameters are MiB (2^20).
// The temporary buffer is TVM's static memory plan of the compiled prefill, which the catalog does not publish:
// webkv counts the FFN of one prefill chunk (default 1024 tokens): chunk × (gate+up 2f + act f + 2h) values in the
// activation dtype. Libraries that also keep the f32 logits of the whole chunk (the Qwen2 builds) need
// chunk × V × 4 B more — tests/estimator/webllm.test.ts lists each catalog model's difference and its reason.

import { EstimatorError, requireInteger } from "./errors.js";
import { modelInventory, tensorElements } from "./inventory.js";
import { valueHeadDim, validateModel, type ModelDescription } from "./model.js";
import type { RuntimeEstimate } from "./runtime-estimate.js";
import { formatCount, MiB } from "./units.js";
import { layerPlan } from "./layers.js";

export const WEBLLM_QUANTIZATIONS = {
  q4f16_1: { matrixBytesPerValue: 0.5625, dtypeBytes: 2 },
  q4f32_1: { matrixBytesPerValue: 0.625, dtypeBytes: 4 },
  q0f16: { matrixBytesPerValue: 2, dtypeBytes: 2 },
  q0f32: { matrixBytesPerValue: 4, dtypeBytes: 4 },
} as const;
export type WebLlmQuantization = keyof typeof WEBLLM_QUANTIZATIONS;

export interface WebLlmSettings {
  /** context_window_size. */
  context: number;
  quantization: string;
  /** prefill_chunk_size (default 1024, the "cs1k" of the library names). */
  prefillChunk?: number;
  /** Include the f32 logits of the whole prefill chunk in the temporary buffer (some libraries keep them). */
  chunkLogits?: boolean;
}

export function estimateWebLlm(model: ModelDescription, s: WebLlmSettings): RuntimeEstimate {
  validateModel(model);
  requireInteger("context", s.context, 1);
  const chunk = s.prefillChunk ?? 1024;
  requireInteger("prefill chunk", chunk, 1);
  const q = (WEBLLM_QUANTIZATIONS as Record<string, (typeof WEBLLM_QUANTIZATIONS)[WebLlmQuantization]>)[s.quantization.toLowerCase()];
  if (!q) throw new EstimatorError(`WebLLM has no quantization "${s.quantization}" here (known: ${Object.keys(WEBLLM_QUANTIZATIONS).join(", ")})`);
  if (model.mla) throw new EstimatorError(`the WebLLM profile does not model MLA caches (${model.name})`);

  let weights = 0;
  for (const t of modelInventory(model)) {
    weights += t.copies * tensorElements(t) * (t.isVector ? q.dtypeBytes : q.matrixBytesPerValue);
  }
  const storing = layerPlan(model).filter((l) => l.storesKv).length;
  const kvPerToken = storing * model.kvHeads * (model.headDim + valueHeadDim(model)) * q.dtypeBytes;
  const window = model.slidingWindow ? Math.min(s.context, model.slidingWindow.size) : s.context;
  const kv = kvPerToken * window;
  const f = model.moe ? model.moe.expertFfnSize * model.moe.expertsPerToken : model.ffnSize;
  const ffnTemp = chunk * (3 * f + 2 * model.hiddenSize) * q.dtypeBytes;
  const logitsTemp = s.chunkLogits ? chunk * model.vocabSize * 4 : 0;
  const temp = ffnTemp + logitsTemp;
  const vramMb = (weights + temp) / MiB + kv / 1e6;
  return {
    runtime: "webllm",
    model: model.name,
    settings: { context: s.context, quantization: s.quantization.toLowerCase(), prefill_chunk: chunk, chunk_logits: Boolean(s.chunkLogits) },
    bytes: { weights, kv, temporary: temp, total: weights + kv + temp },
    figures: { vram_required_MB: Math.round(vramMb * 100) / 100 },
    formulas: [
      `WebLLM weights (${s.quantization}) = matrices × ${q.matrixBytesPerValue} B + vectors × ${q.dtypeBytes} B = ${(weights / MiB).toFixed(2)} MiB`,
      `WebLLM KV = ${storing} layers × ${model.kvHeads} KV heads × (${model.headDim} + ${valueHeadDim(model)}) × ${q.dtypeBytes} B × ` +
        `${formatCount(window)} tokens = ${kv} B = ${(kv / 1e6).toFixed(2)} MB (10^6)`,
      `WebLLM temporary = ${chunk} × (3×${f} + 2×${model.hiddenSize}) × ${q.dtypeBytes} B` +
        (logitsTemp ? ` + ${chunk} × ${model.vocabSize} × 4 B logits` : "") + ` = ${(temp / MiB).toFixed(2)} MiB`,
      `vram_required_MB = (weights + temporary) / 2^20 + KV / 10^6 = ${vramMb.toFixed(2)}`,
    ],
    notes: ["WebLLM allocates the KV cache for the whole context window when the model loads"],
  };
}
