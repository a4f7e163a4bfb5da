// A model's configuration read from GGUF metadata through its architecture description, with llama.cpp's
// defaults, and checked against the tensors actually present: every key and tensor the forward pass relies
// on is validated here, so a bad file fails at load with an error naming the key or tensor, never later as
// garbage. A tensor the architecture does not know is an error too (it would be silently ignored).

import { GgufError } from "../gguf/errors.js";
import { metaCount, metaNumber, metaString } from "../gguf/metadata.js";
import type { GgufHeader, GgufTensorInfo } from "../gguf/types.js";
import { ARCHITECTURES, supportedArchitectures, type ArchitectureDescription } from "./architecture.js";
import { assertReadableTensorType } from "./weight-layout.js";

/** How RoPE angles are made for one group of layers (see src/model/rope.ts). */
export interface RopeConfig {
  /** Rotated dims per head (≤ head_dim: Phi-style partial rotary leaves the rest as it is). */
  ropeDim: number;
  freqBase: number;
  /** Positions are multiplied by this (linear scaling: 1/factor; YaRN interpolates with it). */
  freqScale: number;
  /** YaRN: how much of the extrapolated angle to mix back in (1 for YaRN, 0 otherwise). */
  extFactor: number;
  /** YaRN correction range over dims [low, high] (from beta_fast / beta_slow). */
  corrDims: [number, number];
  /** Multiplies cos and sin (YaRN / LongRoPE magnitude correction; 1 = none). */
  attnFactor: number;
  /** Tensor of per-pair divisors of θ (rope_freqs / rope_factors_*), read at load; null = none. */
  factorsTensor: string | null;
}

export interface ModelConfig {
  architecture: string;
  description: ArchitectureDescription;
  dim: number;
  layers: number;
  qHeads: number;
  kvHeads: number;
  headDim: number;
  ffnDim: number;
  vocabSize: number;
  contextLength: number;
  rmsEps: number;
  tiedOutput: boolean;
  /** Multiplies q before q·k (1/√head_dim unless the architecture says otherwise). */
  attentionScale: number;
  /** score → cap·tanh(score/cap) inside attention; 0 = off. */
  attentionSoftcap: number;
  /** logits → cap·tanh(logits/cap); 0 = off. */
  finalSoftcap: number;
  /** The embedding row is multiplied by this (√dim for Gemma, else 1). */
  embeddingScale: number;
  /** Sliding window of the model in tokens (0 = none), and per layer (0 = full attention). */
  slidingWindow: number;
  layerWindows: number[];
  /** RoPE settings: [global] or [global, local]; layerRope[l] indexes them. */
  ropes: RopeConfig[];
  layerRope: number[];
  /** Projection biases present in every layer ("attn_q.bias", …). */
  biases: string[];
  /** Rotated dims per head (the same for every rope group). */
  ropeDim: number;
}

export interface ConfigOptions {
  /** The context the runtime will serve (≤ context_length): picks Phi-3's short or long RoPE factors. */
  contextSize?: number;
}

/** Finite and > 0, or a named error (an epsilon of 0 or a RoPE base of 0 gives NaN or garbage, not an error). */
function positive(header: GgufHeader, key: string, fallback: number): number {
  const value = metaNumber(header, key, fallback);
  if (!(value > 0) || !Number.isFinite(value)) throw new GgufError("bad_metadata", `GGUF metadata "${key}" must be a finite number > 0, found ${value}`);
  return value;
}

export function modelConfigFromGguf(header: GgufHeader, options: ConfigOptions = {}): ModelConfig {
  const architecture = metaString(header, "general.architecture");
  const description = ARCHITECTURES.get(architecture);
  if (!description) {
    throw new GgufError(
      "unsupported_architecture",
      `architecture "${architecture}" is not supported (webkv runs: ${supportedArchitectures().join(", ")})`,
    );
  }
  const key = (name: string) => `${architecture}.${name}`;
  const dim = metaCount(header, key("embedding_length"));
  const layers = metaCount(header, key("block_count"));
  // Every layer has tensors of its own: a count beyond the tensors present is corrupt (and must not size arrays).
  if (layers > header.tensors.length) {
    throw new GgufError("bad_metadata", `GGUF metadata "${key("block_count")}" is ${layers}, more layers than the file's ${header.tensors.length} tensors can hold`);
  }
  const qHeads = metaCount(header, key("attention.head_count"));
  const kvHeads = metaCount(header, key("attention.head_count_kv"), qHeads);
  if (!header.metadata.has(key("attention.key_length")) && dim % qHeads !== 0) {
    throw new GgufError("bad_metadata", `embedding_length ${dim} is not a multiple of head_count ${qHeads}`);
  }
  const headDim = metaCount(header, key("attention.key_length"), dim / qHeads);
  if (qHeads % kvHeads !== 0) throw new GgufError("bad_metadata", `head_count ${qHeads} is not a multiple of head_count_kv ${kvHeads}`);
  const valueDim = metaCount(header, key("attention.value_length"), headDim);
  if (valueDim !== headDim) throw new GgufError("bad_metadata", `key_length ${headDim} ≠ value_length ${valueDim} is not supported`);
  if (headDim % 4 !== 0) throw new GgufError("bad_metadata", `head dimension ${headDim} must be a multiple of 4`);

  const contextLength = metaCount(header, key("context_length"), 2048);
  const contextSize = Math.min(options.contextSize ?? contextLength, contextLength);
  const ropeDim = metaCount(header, key("rope.dimension_count"), headDim);
  if (ropeDim > headDim || ropeDim % 2 !== 0) {
    throw new GgufError("bad_metadata", `rope.dimension_count ${ropeDim} must be even and at most the head dimension ${headDim}`);
  }
  const shape = { dim, layers, qHeads, headDim };
  const globalRope = ropeFromMetadata(header, architecture, description, ropeDim, contextSize);
  const ropes = [globalRope];
  if (description.localRopeBase !== undefined) {
    ropes.push({ ropeDim, freqBase: description.localRopeBase, freqScale: 1, extFactor: 0, corrDims: [0, 0], attnFactor: 1, factorsTensor: null });
  }
  const slidingWindow = !description.ignoreWindow && header.metadata.has(key("attention.sliding_window"))
    ? metaCount(header, key("attention.sliding_window"))
    : 0;
  const isLocal = (l: number) => slidingWindow > 0 && (description.slidingWindowLayer?.(l) ?? true);
  // A window at least as long as the context never masks anything: the context bounds it (and its kernel constant).
  const layerWindows = Array.from({ length: layers }, (_, l) => (isLocal(l) ? Math.min(slidingWindow, contextLength) : 0));
  const layerRope = Array.from({ length: layers }, (_, l) => (ropes.length > 1 && isLocal(l) ? 1 : 0));

  const softcap = (name: string, fallback: number) => {
    if (!description.softcap) return 0;
    const value = metaNumber(header, key(name), fallback);
    if (!(value >= 0) || !Number.isFinite(value)) throw new GgufError("bad_metadata", `GGUF metadata "${key(name)}" must be ≥ 0, found ${value}`);
    return value;
  };
  const embedding = requireTensor(header, "token_embd.weight");
  const config: ModelConfig = {
    architecture,
    description,
    dim,
    layers,
    qHeads,
    kvHeads,
    headDim,
    ffnDim: metaCount(header, key("feed_forward_length")),
    vocabSize: embedding.dims[1] ?? 0,
    contextLength,
    rmsEps: positive(header, key("attention.layer_norm_rms_epsilon"), 1e-5),
    tiedOutput: !header.tensorByName.has("output.weight"),
    attentionScale: description.attentionScale?.(shape) ?? 1 / Math.sqrt(headDim),
    attentionSoftcap: softcap("attn_logit_softcapping", description.softcap?.attention ?? 0),
    finalSoftcap: softcap("final_logit_softcapping", description.softcap?.final ?? 0),
    embeddingScale: description.scaleEmbedding ? Math.fround(Math.sqrt(dim)) : 1,
    slidingWindow,
    layerWindows,
    ropes,
    layerRope,
    biases: presentBiases(header, description, layers),
    ropeDim,
  };
  checkTensors(header, config);
  return config;
}

/** RoPE of the global layers: base, linear / YaRN scaling and LongRoPE / Llama 3 factors, as llama.cpp reads them. */
function ropeFromMetadata(header: GgufHeader, arch: string, description: ArchitectureDescription, ropeDim: number, contextSize: number): RopeConfig {
  const key = (name: string) => `${arch}.rope.${name}`;
  const freqBase = positive(header, key("freq_base"), 10000);
  const scalingType = metaString(header, key("scaling.type"), "none");
  let factor = 1;
  if (header.metadata.has(key("scaling.factor"))) factor = positive(header, key("scaling.factor"), 1);
  else if (header.metadata.has(key("scale_linear"))) factor = positive(header, key("scale_linear"), 1);
  const rope: RopeConfig = { ropeDim, freqBase, freqScale: 1, extFactor: 0, corrDims: [0, 0], attnFactor: 1, factorsTensor: null };
  if (scalingType === "linear") {
    rope.freqScale = Math.fround(1 / factor);
  } else if (scalingType === "yarn") {
    rope.freqScale = Math.fround(1 / factor);
    const originalContext = metaCount(header, key("scaling.original_context_length"), metaCount(header, `${arch}.context_length`, 2048));
    const betaFast = positive(header, key("scaling.yarn_beta_fast"), 32);
    const betaSlow = positive(header, key("scaling.yarn_beta_slow"), 1);
    rope.extFactor = metaNumber(header, key("scaling.yarn_ext_factor"), 1);
    rope.attnFactor = positive(header, key("scaling.yarn_attn_factor"), 1);
    rope.corrDims = yarnCorrDims(ropeDim, originalContext, freqBase, betaFast, betaSlow);
  } else if (scalingType !== "none" && scalingType !== "longrope" && scalingType !== "llama3") {
    throw new GgufError("bad_metadata", `rope scaling "${scalingType}" is not supported (none, linear, yarn, llama3 and LongRoPE factor tensors are)`);
  }
  if (header.metadata.has(key("scaling.attn_factor"))) rope.attnFactor = positive(header, key("scaling.attn_factor"), 1);

  if (description.ropeFactors === "rope_freqs" && header.tensorByName.has("rope_freqs.weight")) {
    rope.factorsTensor = "rope_freqs.weight";
  } else if (description.ropeFactors === "short_long" && header.tensorByName.has("rope_factors_short.weight")) {
    const original = metaCount(header, key("scaling.original_context_length"), metaCount(header, `${arch}.context_length`, 2048));
    rope.factorsTensor = contextSize > original ? "rope_factors_long.weight" : "rope_factors_short.weight";
  }
  return rope;
}

/** ggml_rope_yarn_corr_dims: the dims where interpolation gives way to extrapolation. */
export function yarnCorrDims(ropeDim: number, originalContext: number, freqBase: number, betaFast: number, betaSlow: number): [number, number] {
  const f = Math.fround;
  const corrDim = (rotations: number) =>
    f(f(ropeDim * f(Math.log(f(originalContext / f(rotations * 2 * Math.PI))))) / f(2 * f(Math.log(freqBase))));
  return [Math.max(0, Math.floor(corrDim(betaFast))), Math.min(ropeDim - 1, Math.ceil(corrDim(betaSlow)))];
}

function presentBiases(header: GgufHeader, description: ArchitectureDescription, layers: number): string[] {
  const present: string[] = [];
  for (const bias of description.biases.required) {
    for (let l = 0; l < layers; l++) requireTensor(header, `blk.${l}.${bias}`);
    present.push(bias);
  }
  for (const bias of description.biases.optional) {
    const inLayers = Array.from({ length: layers }, (_, l) => header.tensorByName.has(`blk.${l}.${bias}`));
    if (inLayers.every(Boolean)) present.push(bias);
    else if (inLayers.some(Boolean)) throw new GgufError("missing_tensor", `tensor "blk.${inLayers.indexOf(false)}.${bias}" is missing (other layers have ${bias})`);
  }
  return present;
}

function requireTensor(header: GgufHeader, name: string): GgufTensorInfo {
  const tensor = header.tensorByName.get(name);
  if (!tensor) throw new GgufError("missing_tensor", `tensor "${name}" is missing`);
  return tensor;
}

/** Every tensor the forward pass reads, with the shape the metadata implies (ggml order: [in, out]). */
export function expectedTensors(c: ModelConfig): Map<string, { dims: number[]; why: string }> {
  const d = c.description;
  const qDim = c.qHeads * c.headDim;
  const kvDim = c.kvHeads * c.headDim;
  const expected = new Map<string, { dims: number[]; why: string }>();
  const add = (name: string, dims: number[], why: string) => expected.set(name, { dims, why });
  add("token_embd.weight", [c.dim, c.vocabSize], "embedding_length × vocab");
  add("output_norm.weight", [c.dim], "embedding_length");
  if (!c.tiedOutput) add("output.weight", [c.dim, c.vocabSize], "embedding_length × vocab");
  for (const rope of c.ropes) {
    if (rope.factorsTensor) add(rope.factorsTensor, [rope.ropeDim / 2], "rope.dimension_count / 2");
  }
  for (let l = 0; l < c.layers; l++) {
    const p = `blk.${l}.`;
    add(`${p}attn_norm.weight`, [c.dim], "embedding_length");
    if (d.fusedQkv) {
      add(`${p}attn_qkv.weight`, [c.dim, qDim + 2 * kvDim], "embedding_length × (head_count + 2·head_count_kv)·head_dim");
    } else {
      add(`${p}attn_q.weight`, [c.dim, qDim], "embedding_length × head_count·head_dim");
      add(`${p}attn_k.weight`, [c.dim, kvDim], "embedding_length × head_count_kv·head_dim");
      add(`${p}attn_v.weight`, [c.dim, kvDim], "embedding_length × head_count_kv·head_dim");
    }
    const biasDims: Record<string, number> = { "attn_q.bias": qDim, "attn_k.bias": kvDim, "attn_v.bias": kvDim, "attn_output.bias": c.dim };
    for (const bias of c.biases) add(`${p}${bias}`, [biasDims[bias]!], "the projection's outputs");
    if (d.qkNorm) {
      add(`${p}attn_q_norm.weight`, [c.headDim], "head_dim");
      add(`${p}attn_k_norm.weight`, [c.headDim], "head_dim");
    }
    add(`${p}attn_output.weight`, [qDim, c.dim], "head_count·head_dim × embedding_length");
    if (d.postNorms) {
      add(`${p}post_attention_norm.weight`, [c.dim], "embedding_length");
      add(`${p}post_ffw_norm.weight`, [c.dim], "embedding_length");
    }
    add(`${p}ffn_norm.weight`, [c.dim], "embedding_length");
    if (d.fusedGateUp) {
      add(`${p}ffn_up.weight`, [c.dim, 2 * c.ffnDim], "embedding_length × 2·feed_forward_length (gate and up)");
    } else {
      add(`${p}ffn_gate.weight`, [c.dim, c.ffnDim], "embedding_length × feed_forward_length");
      add(`${p}ffn_up.weight`, [c.dim, c.ffnDim], "embedding_length × feed_forward_length");
    }
    add(`${p}ffn_down.weight`, [c.ffnDim, c.dim], "feed_forward_length × embedding_length");
  }
  return expected;
}

/** Tensors a file may carry that the forward pass does not read (llama.cpp does not read them either). */
function isKnownUnused(name: string, c: ModelConfig): boolean {
  // Phi-3 files carry both factor sets; the forward pass reads one of them.
  return (c.description.ropeFactors === "short_long" && /^rope_factors_(short|long)\.weight$/.test(name));
}

export function checkTensors(header: GgufHeader, c: ModelConfig): void {
  const expected = expectedTensors(c);
  for (const [name, { dims, why }] of expected) {
    const tensor = requireTensor(header, name);
    const same = tensor.dims.length === dims.length && tensor.dims.every((d, i) => d === dims[i]);
    if (!same) {
      throw new GgufError("shape_mismatch", `tensor "${name}" has dims [${tensor.dims.join(", ")}] but the metadata implies [${dims.join(", ")}] (${why})`);
    }
    // before anything is uploaded: a matrix in a type the kernels cannot read, or a vector we cannot dequantize
    assertReadableTensorType(tensor);
  }
  const unknown = header.tensors.filter((t) => !expected.has(t.name) && !isKnownUnused(t.name, c));
  if (unknown.length > 0) {
    const layerOf = /^blk\.(\d+)\./.exec(unknown[0]!.name);
    const hint = layerOf && Number(layerOf[1]) >= c.layers
      ? ` (block_count is ${c.layers}, but the file holds layer ${layerOf[1]})`
      : ` (${c.architecture} does not use it)`;
    throw new GgufError(
      "unexpected_tensor",
      `tensor "${unknown[0]!.name}" is not part of the ${c.architecture} graph${hint}` +
        (unknown.length > 1 ? `; ${unknown.length - 1} more such tensors` : ""),
    );
  }
  const tokens = header.metadata.get("tokenizer.ggml.tokens");
  if (Array.isArray(tokens) && tokens.length !== c.vocabSize) {
    throw new GgufError("shape_mismatch", `the vocabulary has ${tokens.length} tokens but token_embd.weight has ${c.vocabSize} rows`);
  }
}
