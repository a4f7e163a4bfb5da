// estimate(model, settings): GPU memory for serving `sequences` sequences of `context` tokens, per GPU,
//   total = weights + kv + activations + attention_scratch + overhead
// with every term's arithmetic returned in `formulas`. With gpuMemory set, also the longest context that fits.

import { stepBytes, type NamedBytes } from "./activations.js";
import { EstimatorError, requireInteger } from "./errors.js";
import { kvBytes, type KvLayerGroup } from "./kv.js";
import { resolveKvFormat, type KvFormatSpec } from "./kv-formats.js";
import { largestFitting, MAX_CONTEXT_SEARCHED } from "./max-context.js";
import { attentionKind, validateModel, type AttentionKind, type ModelDescription } from "./model.js";
import { overheadBytes } from "./overhead.js";
import { countParams, type ParamCounts } from "./params.js";
import { formatBytes, formatCount, formatParams, MiB } from "./units.js";
import { bitsPerWeight, weightFormat, type WeightFormatSpec } from "./weight-formats.js";
import { weightBytesFromShapes, weightBytesFromTensors, type WeightBytes, type WeightGroupBytes } from "./weights.js";

export interface EstimateSettings {
  /** Tokens per sequence (prompt + generated). */
  context: number;
  /** Sequences cached at once (batch). Default 1. */
  sequences?: number;
  /** Every matrix in this format. Default: a GGUF's own tensor types when the model lists tensors, else "f16". */
  weightFormat?: string | WeightFormatSpec;
  /** K and V format (default "f16"); kvKFormat / kvVFormat override one side. */
  kvFormat?: string | KvFormatSpec;
  kvKFormat?: string | KvFormatSpec;
  kvVFormat?: string | KvFormatSpec;
  /** Paged KV: each sequence's tokens are rounded up to whole blocks. Default 16; 1 = not paged. */
  blockSize?: number;
  /** Default "flash". */
  attention?: "flash" | "naive";
  /** Tokens per prefill step. Default 512. */
  prefillChunk?: number;
  /** Tensor-parallel degree. Default 1. */
  tp?: number;
  /** Memory of one GPU in bytes: when given, max_context is computed. */
  gpuMemory?: number;
  /** Bytes per activation value. Default 4 (f32). */
  activationBytes?: number;
  /** Logits for the last token of each sequence (generation, default) or for every prompt token (scoring). */
  logits?: "last" | "all";
  /** Size of the reused weight-upload staging buffer. Default 64 MiB. */
  stagingBytes?: number;
  /** Extra allowance added to the total. Default 0. */
  reserveBytes?: number;
}

export interface MemoryBytes {
  weights: number;
  kv: number;
  activations: number;
  attention_scratch: number;
  overhead: number;
  total: number;
}

export interface Estimate {
  model: string;
  attention_kind: AttentionKind;
  settings: {
    context: number;
    sequences: number;
    weight_format: string;
    kv_k_format: string;
    kv_v_format: string;
    block_size: number;
    attention: "flash" | "naive";
    prefill_chunk: number;
    tp: number;
    activation_bytes: number;
    logits: "last" | "all";
    gpu_memory?: number;
  };
  /** One GPU's memory (with tp = 1, the whole footprint). */
  bytes: MemoryBytes;
  /** Summed over the tp GPUs. */
  bytes_all_gpus: MemoryBytes;
  /** KV bytes one more cached token costs on one GPU (every layer that stores a cache, before window caps). */
  kv_bytes_per_token: number;
  kv_bytes_per_token_all_gpus: number;
  params: { total: number; active: number; active_excluding_embedding: number; counted_from: ParamCounts["countedFrom"] };
  /** Longest context (tokens per sequence) whose total fits gpuMemory; 0 if nothing fits. */
  max_context?: number;
  breakdown: {
    weights: WeightGroupBytes[];
    kv: KvLayerGroup[];
    activations: NamedBytes[];
    attention_scratch: NamedBytes[];
    overhead: NamedBytes[];
  };
  formulas: string[];
  notes: string[];
}

interface Resolved {
  sequences: number;
  weights: WeightFormatSpec | "gguf";
  k: KvFormatSpec;
  v: KvFormatSpec;
  blockSize: number;
  attention: "flash" | "naive";
  prefillChunk: number;
  tp: number;
  activationBytes: number;
  logits: "last" | "all";
  stagingBytes: number;
  reserveBytes: number;
}

function resolveSettings(model: ModelDescription, s: EstimateSettings): Resolved {
  requireInteger("context", s.context, 1);
  const r: Resolved = {
    sequences: s.sequences ?? 1,
    weights: s.weightFormat === undefined
      ? (model.tensors && model.tensors.length > 0 ? "gguf" : weightFormat("f16"))
      : typeof s.weightFormat === "string" ? weightFormat(s.weightFormat) : s.weightFormat,
    k: resolveKvFormat(s.kvKFormat ?? s.kvFormat ?? "f16"),
    v: resolveKvFormat(s.kvVFormat ?? s.kvFormat ?? "f16"),
    blockSize: s.blockSize ?? 16,
    attention: s.attention ?? "flash",
    prefillChunk: s.prefillChunk ?? 512,
    tp: s.tp ?? 1,
    activationBytes: s.activationBytes ?? 4,
    logits: s.logits ?? "last",
    stagingBytes: s.stagingBytes ?? 64 * MiB,
    reserveBytes: s.reserveBytes ?? 0,
  };
  requireInteger("sequences", r.sequences, 1);
  requireInteger("block size", r.blockSize, 1);
  requireInteger("prefill chunk", r.prefillChunk, 1);
  requireInteger("tp", r.tp, 1);
  requireInteger("activation bytes", r.activationBytes, 1);
  requireInteger("staging bytes", r.stagingBytes, 0);
  requireInteger("reserve bytes", r.reserveBytes, 0);
  if (r.attention !== "flash" && r.attention !== "naive") {
    throw new EstimatorError(`attention must be "flash" or "naive", got "${String(r.attention)}"`);
  }
  if (r.logits !== "last" && r.logits !== "all") throw new EstimatorError(`logits must be "last" or "all", got "${String(r.logits)}"`);
  if (model.heads % r.tp !== 0) {
    throw new EstimatorError(`tp ${r.tp} does not divide the ${model.heads} attention heads of ${model.name}`);
  }
  if (!model.mla) {
    const K = model.kvHeads;
    if (K >= r.tp ? K % r.tp !== 0 : r.tp % K !== 0) {
      throw new EstimatorError(`tp ${r.tp} and the ${K} KV heads of ${model.name} neither divide the other`);
    }
  }
  if (s.gpuMemory !== undefined && !(s.gpuMemory > 0)) throw new EstimatorError(`gpu memory must be more than 0 bytes, got ${s.gpuMemory}`);
  return r;
}

/** Everything that does not depend on the context: computed once, reused by the max-context search. */
interface Prepared {
  model: ModelDescription;
  r: Resolved;
  weights: WeightBytes;
  params: ParamCounts;
  formulas: string[];
  notes: string[];
}

function prepare(model: ModelDescription, settings: EstimateSettings): Prepared {
  validateModel(model);
  const r = resolveSettings(model, settings);
  const params = countParams(model);
  const weights = r.weights === "gguf" ? weightBytesFromTensors(model, r.tp) : weightBytesFromShapes(model, r.weights, r.tp);
  const formulas: string[] = [];
  const notes: string[] = [...(model.notes ?? [])];

  const paramGroups = Object.entries(params.byGroup).map(([group, count]) => `${group} ${formatCount(count)}`).join(" + ");
  formulas.push(`params (from ${params.countedFrom}) = ${paramGroups} = ${formatCount(params.total)} (${formatParams(params.total)})`);
  if (params.active !== params.total) {
    formulas.push(
      `active params = ${formatCount(params.active)} (${formatParams(params.active)}): routed experts counted ` +
        `${model.moe?.expertsPerToken} of ${model.moe?.experts} per layer; ${formatParams(params.activeExcludingEmbedding)} without the token embedding`,
    );
  }
  const formatText = r.weights === "gguf" ? "each GGUF tensor in its own type"
    : `${r.weights.id}, ${bitsPerWeight(r.weights)} bits/weight: ${r.weights.description}${r.weights.isFloat ? "" : "; vectors in f32"}`;
  const groupText = weights.groups.map((g) => `${g.group} ${formatBytes(r.tp > 1 ? g.bytesPerGpu : g.bytes)}`).join(" + ");
  formulas.push(
    `weights (${formatText})${r.tp > 1 ? ` per GPU of ${r.tp}` : ""} = ${groupText} = ${formatBytes(weights.bytesPerGpu)}` +
      (r.tp > 1 ? ` (whole model ${formatBytes(weights.bytes)})` : ""),
  );
  if (r.tp > 1) {
    notes.push(
      `tp ${r.tp}: attention heads, FFN and expert widths are split ${r.tp} ways; embedding and output head are split by ` +
        `vocabulary rows; norms and routers are replicated` +
        (model.mla ? "; the MLA latent cache and down-projections are replicated on every GPU" : "") +
        (!model.mla && model.kvHeads < r.tp ? `; ${model.kvHeads} KV heads < ${r.tp} GPUs, so each KV head is replicated` : ""),
    );
  }
  for (const fallback of weights.fallbacks) notes.push(`weights: ${fallback}`);
  if (model.mtpLayers) {
    notes.push(`${model.mtpLayers} multi-token-prediction layer(s) ship with the model but are not loaded for plain decoding and are not counted`);
  }
  return { model, r, weights, params, formulas, notes };
}

function atContext(p: Prepared, context: number, gpuMemory: number | undefined): Estimate {
  const { model, r } = p;
  const kv = kvBytes(model, { context, sequences: r.sequences, blockSize: r.blockSize, k: r.k, v: r.v, tp: r.tp });
  const step = stepBytes(model, {
    context, sequences: r.sequences, prefillChunk: r.prefillChunk, tp: r.tp,
    activationBytes: r.activationBytes, logits: r.logits, attention: r.attention,
  });
  const overhead = overheadBytes({
    context, sequences: r.sequences, blockSize: r.blockSize, stepTokens: step.stepTokens, logitRows: step.logitRows,
    vocabSize: model.vocabSize, largestTensorBytes: p.weights.largestTensorPerGpu, stagingBytes: r.stagingBytes,
    reserveBytes: r.reserveBytes,
  });
  const bytes: MemoryBytes = {
    weights: p.weights.bytesPerGpu,
    kv: kv.bytesPerGpu,
    activations: step.activations,
    attention_scratch: step.attentionScratch,
    overhead: overhead.bytes,
    total: 0,
  };
  bytes.total = bytes.weights + bytes.kv + bytes.activations + bytes.attention_scratch + bytes.overhead;
  const times = (n: number) => n * r.tp;
  const notes = [...p.notes];
  if (context > model.contextLength) {
    notes.push(`context ${formatCount(context)} is longer than the ${formatCount(model.contextLength)} tokens ${model.name} was trained for`);
  }
  const formulas = [
    ...p.formulas,
    ...kv.formulas,
    ...step.formulas,
    overhead.formula,
    `total${r.tp > 1 ? " per GPU" : ""} = weights ${formatBytes(bytes.weights)} + kv ${formatBytes(bytes.kv)} + activations ` +
      `${formatBytes(bytes.activations)} + attention scratch ${formatBytes(bytes.attention_scratch)} + overhead ` +
      `${formatBytes(bytes.overhead)} = ${formatBytes(bytes.total)}`,
  ];
  const estimate: Estimate = {
    model: model.name,
    attention_kind: attentionKind(model),
    settings: {
      context,
      sequences: r.sequences,
      weight_format: r.weights === "gguf" ? "gguf" : r.weights.id,
      kv_k_format: r.k.id,
      kv_v_format: r.v.id,
      block_size: r.blockSize,
      attention: r.attention,
      prefill_chunk: r.prefillChunk,
      tp: r.tp,
      activation_bytes: r.activationBytes,
      logits: r.logits,
      ...(gpuMemory !== undefined ? { gpu_memory: gpuMemory } : {}),
    },
    bytes,
    bytes_all_gpus: {
      weights: times(bytes.weights), kv: times(bytes.kv), activations: times(bytes.activations),
      attention_scratch: times(bytes.attention_scratch), overhead: times(bytes.overhead), total: times(bytes.total),
    },
    kv_bytes_per_token: kv.bytesPerTokenPerGpu,
    kv_bytes_per_token_all_gpus: kv.bytesPerTokenAllGpus,
    params: {
      total: p.params.total,
      active: p.params.active,
      active_excluding_embedding: p.params.activeExcludingEmbedding,
      counted_from: p.params.countedFrom,
    },
    breakdown: {
      weights: p.weights.groups,
      kv: kv.groups,
      activations: step.activationTerms,
      attention_scratch: step.scratchTerms,
      overhead: overhead.terms,
    },
    formulas,
    notes,
  };
  return estimate;
}

export function estimate(model: ModelDescription, settings: EstimateSettings): Estimate {
  const prepared = prepare(model, settings);
  const result = atContext(prepared, settings.context, settings.gpuMemory);
  const memory = settings.gpuMemory;
  if (memory !== undefined) {
    const maxContext = largestFitting((n) => atContext(prepared, n, memory).bytes.total <= memory);
    result.max_context = maxContext;
    const perGpu = prepared.r.tp > 1 ? " per GPU" : "";
    if (maxContext === 0) {
      result.formulas.push(`max context: not even 1 token fits in ${formatBytes(memory)}${perGpu} (weights alone are ${formatBytes(result.bytes.weights)})`);
    } else {
      const at = atContext(prepared, maxContext, memory).bytes.total;
      result.formulas.push(
        `max context = ${formatCount(maxContext)} tokens per sequence × ${prepared.r.sequences}: total ${formatBytes(at)} ≤ ${formatBytes(memory)}${perGpu}` +
          (maxContext < MAX_CONTEXT_SEARCHED ? ` < total at ${formatCount(maxContext + 1)}` : " (searched no further)"),
      );
      if (maxContext > model.contextLength) {
        result.notes.push(`max context ${formatCount(maxContext)} fits in memory but is longer than the ${formatCount(model.contextLength)} tokens ${model.name} was trained for`);
      }
    }
  }
  return result;
}
