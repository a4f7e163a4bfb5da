// KV-cache bytes.
// Per token, per layer that stores a cache (one GPU's share):
//   MHA/GQA/MQA:  K_gpu × (bytes_K(d) + bytes_V(d_v))          K_gpu = K/t, or 1 when K < t (replicated)
//   MLA:          bytes_K(r_kv + d_rope)                       one latent + one shared RoPE key, no per-head
//                                                              K or V; every TP rank holds the whole latent
// where bytes_F(n) = ceil(n × bits_F / 8) + ceil(n / group_F) × (scale_F + zero_F)   (kv-formats.ts).
// Tokens held per sequence, with the cache paged in blocks of B tokens:
//   global layer:  ceil(N / B) × B
//   local layer:   min(ceil(N / B), ceil((W − 1) / B) + 1) × B   a window of W tokens touches at most that
//                  many blocks (one more than W/B when the window is not block-aligned); B = 1: min(N, W)
//   shared layer:  0 (it reads another layer's cache)
// kv = Σ_layers bytes_per_token_layer × tokens_held × sequences + per-tensor scales (2 per storing layer).

import { layerPlan } from "./layers.js";
import { describeKvFormat, kvVectorBytes, type KvFormatSpec } from "./kv-formats.js";
import { attentionKind, valueHeadDim, type ModelDescription } from "./model.js";
import { formatBytes, formatCount } from "./units.js";
import { kvHeadsPerGpu } from "./weights.js";

export interface KvSettings {
  context: number;
  sequences: number;
  blockSize: number;
  k: KvFormatSpec;
  v: KvFormatSpec;
  tp: number;
}

export interface KvLayerGroup {
  /** "global", "local (window 4096)" or "shared (reads another layer's cache)". */
  kind: string;
  layers: number;
  /** K + V bytes one token costs in one layer of this kind, on one GPU. */
  bytesPerTokenPerLayer: number;
  /** Tokens each sequence keeps in each layer of this kind (block-rounded). */
  tokensPerSequence: number;
  /** All layers of this kind, all sequences, one GPU. */
  bytes: number;
}

export interface KvBytes {
  bytesPerGpu: number;
  /** Summed over the t GPUs (replicated heads and MLA latents counted on each). */
  bytesAllGpus: number;
  /** What one more cached token costs on one GPU, summed over every layer that stores a cache. */
  bytesPerTokenPerGpu: number;
  bytesPerTokenAllGpus: number;
  groups: KvLayerGroup[];
  formulas: string[];
}

/** K + V bytes one token costs in one storing layer on one GPU, and how that was computed. */
export function kvBytesPerTokenPerLayer(model: ModelDescription, k: KvFormatSpec, v: KvFormatSpec, tp: number): {
  bytes: number; formula: string;
} {
  if (model.mla) {
    const width = model.mla.kvLoraRank + model.mla.qkRopeHeadDim;
    const bytes = kvVectorBytes(k, width);
    return {
      bytes,
      formula: `MLA: latent ${model.mla.kvLoraRank} + rope key ${model.mla.qkRopeHeadDim} = ${width} values in ` +
        `${describeKvFormat(k)} = ${formatCount(bytes)} B per token per layer` +
        (tp > 1 ? ` (the latent is not split by heads: each of the ${tp} GPUs holds all of it)` : "") +
        (v.id !== k.id ? ` (one joint latent cache: the K format is used, the V format does not apply)` : ""),
    };
  }
  const dk = model.headDim;
  const dv = valueHeadDim(model);
  const heads = kvHeadsPerGpu(model.kvHeads, tp);
  const kBytes = kvVectorBytes(k, dk);
  const vBytes = kvVectorBytes(v, dv);
  const bytes = heads * (kBytes + vBytes);
  const split = tp === 1 ? `${model.kvHeads} KV heads`
    : model.kvHeads >= tp ? `${model.kvHeads} KV heads / ${tp} GPUs = ${heads} per GPU`
    : `${model.kvHeads} KV heads < ${tp} GPUs: 1 per GPU (replicated)`;
  const kText = `K ${dk} values in ${describeKvFormat(k)} = ${kBytes} B`;
  const vText = k.id === v.id && dk === dv ? `V the same` : `V ${dv} values in ${describeKvFormat(v)} = ${vBytes} B`;
  return {
    bytes,
    formula: `${attentionKind(model)}: ${split} × (${kText}; ${vText}) = ${formatCount(bytes)} B per token per layer`,
  };
}

/** Tokens a sequence of `context` tokens keeps in one layer (see the header). */
export function tokensHeld(context: number, blockSize: number, window?: number): number {
  const blocksForContext = Math.ceil(context / blockSize);
  if (window === undefined) return blocksForContext * blockSize;
  const blocksForWindow = Math.ceil((window - 1) / blockSize) + 1;
  return Math.min(blocksForContext, blocksForWindow) * blockSize;
}

export function kvBytes(model: ModelDescription, settings: KvSettings): KvBytes {
  const { context, sequences, blockSize, k, v, tp } = settings;
  const perLayer = kvBytesPerTokenPerLayer(model, k, v, tp);
  const plan = layerPlan(model);
  const window = model.slidingWindow?.size;
  const storing = plan.filter((l) => l.storesKv);
  const globalLayers = storing.filter((l) => l.attention === "global").length;
  const localLayers = storing.filter((l) => l.attention === "local").length;
  const sharedLayers = plan.length - storing.length;
  const tensorScales = storing.length * (k.tensorScaleBytes + v.tensorScaleBytes);

  const groups: KvLayerGroup[] = [];
  const group = (kind: string, layers: number, tokens: number) => {
    if (layers === 0) return;
    const bytesPerTokenPerLayer = kind.startsWith("shared") ? 0 : perLayer.bytes;
    groups.push({ kind, layers, bytesPerTokenPerLayer, tokensPerSequence: tokens, bytes: layers * bytesPerTokenPerLayer * tokens * sequences });
  };
  group("global", globalLayers, tokensHeld(context, blockSize));
  group(`local (window ${window})`, localLayers, tokensHeld(context, blockSize, window));
  group("shared (reads another layer's cache)", sharedLayers, 0);

  const bytesPerGpu = groups.reduce((sum, g) => sum + g.bytes, 0) + tensorScales;
  const bytesPerTokenPerGpu = storing.length * perLayer.bytes;
  const formulas = [`kv per token per layer — ${perLayer.formula}`];
  formulas.push(
    `kv per token = ${formatCount(perLayer.bytes)} B × ${storing.length} layers storing a cache` +
      (sharedLayers ? ` (${sharedLayers} more layers reuse another layer's cache)` : "") +
      ` = ${formatCount(bytesPerTokenPerGpu)} B` + (tp > 1 ? ` per GPU (${formatCount(bytesPerTokenPerGpu * tp)} B on all ${tp} GPUs)` : ""),
  );
  for (const g of groups) {
    if (g.bytesPerTokenPerLayer === 0) continue;
    const rounding = blockSize > 1 ? ` (blocks of ${blockSize})` : "";
    const cap = g.kind.startsWith("local") && context > (window ?? Infinity) ? `, capped by the window` : "";
    formulas.push(
      `kv ${g.kind} = ${g.layers} layers × ${formatCount(g.bytesPerTokenPerLayer)} B × ${formatCount(g.tokensPerSequence)} tokens` +
        `${rounding}${cap} × ${sequences} sequence${sequences === 1 ? "" : "s"} = ${formatBytes(g.bytes)}`,
    );
  }
  if (tensorScales) formulas.push(`kv per-tensor scales = ${storing.length} layers × (${k.tensorScaleBytes} + ${v.tensorScaleBytes}) B = ${tensorScales} B`);
  return {
    bytesPerGpu,
    bytesAllGpus: bytesPerGpu * tp, // every GPU holds the same amount
    bytesPerTokenPerGpu,
    bytesPerTokenAllGpus: bytesPerTokenPerGpu * tp,
    groups,
    formulas,
  };
}
