// llama.cpp's KV buffer (llama.cpp v0.5.0 as bundled by node-llama-cpp 3.22.1):
// - src/llama-context.cpp: the requested n_ctx is rounded up to a multiple of 256 cells; with --parallel N and the
//   default per-sequence streams (kv_unified false) each sequence gets n_ctx_seq = pad(n_ctx / N, 256) cells and
//   n_ctx becomes n_ctx_seq × N.
// - src/llama-kv-cache.cpp: one K and one V tensor per layer that stores a cache, each
//   cells × ggml_row_size(type, kvHeads × headDim); all in one backend buffer ("CPU KV buffer size").
// - src/llama-kv-cache-iswa.cpp: models with sliding-window layers get a second cache for those layers of
//   min(n_ctx_seq, pad(window + n_ubatch, 256)) cells per sequence (unless swa_full), printed as its own KV buffer;
//   webkv reports the two summed. (Not checked against llama.cpp in the bench: no SWA shape there.)

import { llamaCppCacheRowBytes, type LlamaCppCacheType } from "./llamacpp-cache-types.js";
import { layerPlan } from "./layers.js";
import { valueHeadDim, type ModelDescription } from "./model.js";
import { EstimatorError } from "./errors.js";

export const LLAMACPP_CTX_PAD = 256;

export interface LlamaCppKv {
  cells: number;
  /** Cells of one sequence's stream (the n_kv a step attends over). */
  cellsPerSequence: number;
  swaCells: number;
  bytes: number;
  /** Bytes of each cache llama.cpp allocates (one, or the global then the SWA one). */
  buffers: number[];
  bytesPerToken: number;
  formulas: string[];
}

export function llamaCppCells(context: number): number {
  return Math.ceil(context / LLAMACPP_CTX_PAD) * LLAMACPP_CTX_PAD;
}

/** Cells of one sequence's stream for -c `context` shared by `sequences` (kv_unified false). */
export function llamaCppCellsPerSequence(context: number, sequences: number): number {
  return llamaCppCells(Math.floor(llamaCppCells(context) / sequences));
}

export function llamaCppKv(model: ModelDescription, settings: {
  context: number; sequences: number; ubatch: number; k: LlamaCppCacheType; v: LlamaCppCacheType;
}): LlamaCppKv {
  if (model.mla) throw new EstimatorError(`the llama.cpp profile does not model MLA caches (${model.name})`);
  const perSequence = llamaCppCellsPerSequence(settings.context, settings.sequences);
  const cells = perSequence * settings.sequences;
  const dk = model.headDim;
  const dv = valueHeadDim(model);
  const kRow = llamaCppCacheRowBytes(settings.k, model.kvHeads * dk, dk);
  const vRow = llamaCppCacheRowBytes(settings.v, model.kvHeads * dv, dv);
  const plan = layerPlan(model).filter((l) => l.storesKv);
  const global = plan.filter((l) => l.attention === "global").length;
  const local = plan.length - global;
  const window = model.slidingWindow?.size ?? 0;
  const swaCells = local > 0 ? Math.min(perSequence, llamaCppCells(window + settings.ubatch)) * settings.sequences : 0;
  const buffers = [global * cells * (kRow + vRow)];
  if (local > 0) buffers.push(local * swaCells * (kRow + vRow));
  const bytes = buffers.reduce((a, b) => a + b, 0);
  const formulas = [
    `llama.cpp KV: n_ctx ${settings.context} → ${cells} cells (${settings.sequences > 1 ? `${settings.sequences} streams of ${perSequence}, ` : ""}multiples of ${LLAMACPP_CTX_PAD}); a row is ${model.kvHeads} KV heads × ` +
      `${dk} values: K ${settings.k} ${kRow} B + V ${settings.v} ${vRow} B`,
    `llama.cpp KV = ${global} layers × ${cells} cells × ${kRow + vRow} B = ${buffers[0]} B` +
      (local > 0 ? ` + SWA cache ${local} layers × ${swaCells} cells × ${kRow + vRow} B = ${buffers[1]} B` : ""),
  ];
  return { cells, cellsPerSequence: perSequence, swaCells, bytes, buffers, bytesPerToken: plan.length * (kRow + vRow), formulas };
}
