// The llama.cpp profile: what llama.cpp v0.5.0 (the build node-llama-cpp 3.22.1 bundles) allocates for a model
// fully on one backend — model buffers, the KV buffer(s), the compute buffer and the output buffer — each
// computed as the files cited in docs/memory.md define it (see llamacpp-*.ts). Checked against llama.cpp's
// own reports by bench/validate-llamacpp.ts.
//   output buffer (llama-context.cpp output_reserve): logits for n_seq_max rows, V × 4 B each, at creation.

import { EstimatorError, requireInteger } from "./errors.js";
import { isQuantizedCacheType, llamaCppCacheType } from "./llamacpp-cache-types.js";
import { llamaCppCompute } from "./llamacpp-compute.js";
import { llamaCppKv } from "./llamacpp-kv.js";
import { llamaCppModelBuffers, type LlamaCppCpuRepack } from "./llamacpp-model-buffers.js";
import { validateModel, type ModelDescription } from "./model.js";
import type { RuntimeEstimate } from "./runtime-estimate.js";
import { formatBytes, formatCount } from "./units.js";

export interface LlamaCppSettings {
  /** -c: cells for all --parallel sequences together. */
  context: number;
  /** --parallel: sequences (n_seq_max). Default 1. */
  sequences?: number;
  /** -ctk / -ctv (default f16). */
  kvK?: string;
  kvV?: string;
  /** -fa on|off (default on, llama.cpp's choice on backends that support it). */
  flashAttention?: boolean;
  /** -ub (default 512). */
  ubatch?: number;
  /** Every matrix in this ggml type instead of the file's own types. */
  weightFormat?: string;
  /** The CPU's repacked layouts (default none; "avx2" for x86 builds with AVX2). */
  repack?: LlamaCppCpuRepack;
  /** Allow a context longer than the model was trained for (rope scaling given on the command line). */
  ropeScaling?: boolean;
}

export function estimateLlamaCpp(model: ModelDescription, s: LlamaCppSettings): RuntimeEstimate {
  validateModel(model);
  requireInteger("context", s.context, 1);
  const sequences = s.sequences ?? 1;
  requireInteger("sequences", sequences, 1);
  const ubatchRequested = s.ubatch ?? 512;
  requireInteger("ubatch", ubatchRequested, 1);
  const k = llamaCppCacheType(s.kvK ?? "f16");
  const v = llamaCppCacheType(s.kvV ?? s.kvK ?? "f16");
  const flash = s.flashAttention ?? true;
  if (isQuantizedCacheType(v) && !flash) {
    throw new EstimatorError(`llama.cpp refuses a quantized V cache (${v}) without flash attention: use --flash-attention on or --kv-v f16`);
  }
  // -c is shared by the --parallel slots: each sequence gets n_ctx / n_seq (n_ctx_seq) tokens
  const perSequence = Math.floor(s.context / sequences);
  if (perSequence > model.contextLength && !s.ropeScaling) {
    throw new EstimatorError(
      `context ${formatCount(perSequence)} per sequence is beyond the ${formatCount(model.contextLength)} tokens ${model.name} was trained for, and no rope scaling is given`,
    );
  }
  const weights = llamaCppModelBuffers(model, { ...(s.weightFormat ? { weightFormat: s.weightFormat } : {}), repack: s.repack ?? "none" });
  const kv = llamaCppKv(model, { context: s.context, sequences, ubatch: ubatchRequested, k, v });
  const ubatch = Math.min(ubatchRequested, kv.cells);
  const compute = llamaCppCompute(model, { cells: kv.cellsPerSequence, ubatch, flashAttention: flash });
  const output = model.vocabSize * 4 * sequences;
  const total = weights.total + kv.bytes + compute.bytes + output;
  return {
    runtime: "llamacpp",
    model: model.name,
    settings: {
      context: s.context, cells: kv.cells, sequences, kv_k: k, kv_v: v, flash_attention: flash, ubatch,
      repack: s.repack ?? "none", weight_format: s.weightFormat ?? "gguf",
    },
    bytes: { weights: weights.total, kv: kv.bytes, compute: compute.bytes, output, total, ...prefixed("model_", weights.buffers) },
    figures: { cells: kv.cells, cells_per_sequence: kv.cellsPerSequence, swa_cells: kv.swaCells, kv_bytes_per_token: kv.bytesPerToken },
    formulas: [
      ...weights.formulas,
      ...kv.formulas,
      ...compute.formulas,
      `llama.cpp output = ${model.vocabSize} logits × 4 B × ${sequences} sequence${sequences === 1 ? "" : "s"} = ${output} B`,
      `total = model ${formatBytes(weights.total)} + KV ${formatBytes(kv.bytes)} + compute ${formatBytes(compute.bytes)} + output ${formatBytes(output)} = ${formatBytes(total)}`,
    ],
    notes: [
      "llama.cpp v0.5.0 (node-llama-cpp 3.22.1), whole model on one backend; compute buffer modelled for llama-layout decoders",
    ],
  };
}

function prefixed(prefix: string, record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [prefix + key, value]));
}
