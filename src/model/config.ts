// A Llama-family architecture read from GGUF metadata, with llama.cpp's defaults, and checked against
// the tensors actually present: a shape that disagrees with the metadata is an error naming both.

import { GgufError } from "../gguf/errors.js";
import { metaCount, metaNumber, metaString } from "../gguf/metadata.js";
import type { GgufHeader, GgufTensorInfo } from "../gguf/types.js";
import { assertReadableTensorType } from "./weight-layout.js";

/** Architectures that run the Llama graph (llama.cpp converts Mistral models as "llama" too). */
const LLAMA_ARCHITECTURES = new Set(["llama", "mistral"]);

export interface LlamaConfig {
  architecture: string;
  dim: number;
  layers: number;
  qHeads: number;
  kvHeads: number;
  headDim: number;
  ffnDim: number;
  vocabSize: number;
  contextLength: number;
  ropeDim: number;
  ropeFreqBase: number;
  /** Linear RoPE scaling: positions are multiplied by this (1 = none). */
  ropeFreqScale: number;
  rmsEps: number;
  /** Sliding-window attention span in tokens; 0 = full attention. */
  slidingWindow: number;
  tiedOutput: boolean;
}

export function llamaConfigFromGguf(header: GgufHeader): LlamaConfig {
  const architecture = metaString(header, "general.architecture");
  if (!LLAMA_ARCHITECTURES.has(architecture)) {
    throw new GgufError(
      "unsupported_architecture",
      `architecture "${architecture}" is not supported yet (webkv runs: ${[...LLAMA_ARCHITECTURES].join(", ")})`,
    );
  }
  const key = (name: string) => `${architecture}.${name}`;
  const dim = metaCount(header, key("embedding_length"));
  const qHeads = metaCount(header, key("attention.head_count"));
  const kvHeads = metaCount(header, key("attention.head_count_kv"), qHeads);
  if (!header.metadata.has(key("attention.key_length")) && dim % qHeads !== 0) {
    throw new GgufError("bad_metadata", `embedding_length ${dim} is not a multiple of head_count ${qHeads}`);
  }
  const headDim = metaCount(header, key("attention.key_length"), dim / qHeads);
  if (qHeads % kvHeads !== 0) {
    throw new GgufError("bad_metadata", `head_count ${qHeads} is not a multiple of head_count_kv ${kvHeads}`);
  }
  const valueDim = metaCount(header, key("attention.value_length"), headDim);
  if (valueDim !== headDim) throw new GgufError("bad_metadata", `key_length ${headDim} ≠ value_length ${valueDim} is not supported`);
  if (headDim % 4 !== 0) throw new GgufError("bad_metadata", `head dimension ${headDim} must be a multiple of 4`);

  const scalingType = header.metadata.has(key("rope.scaling.type")) ? metaString(header, key("rope.scaling.type")) : "none";
  let ropeFreqScale = 1;
  if (scalingType === "linear") {
    ropeFreqScale = 1 / metaNumber(header, key("rope.scaling.factor"), 1);
  } else if (scalingType !== "none") {
    throw new GgufError("bad_metadata", `rope scaling "${scalingType}" is not supported (none, linear are)`);
  }
  if (header.tensorByName.has("rope_freqs.weight")) {
    throw new GgufError("bad_metadata", "per-dimension RoPE frequency factors (rope_freqs.weight, Llama 3.1 style) are not supported yet");
  }

  const embedding = requireTensor(header, "token_embd.weight");
  const vocabSize = embedding.dims[1] ?? 0;
  const config: LlamaConfig = {
    architecture,
    dim,
    layers: metaCount(header, key("block_count")),
    qHeads,
    kvHeads,
    headDim,
    ffnDim: metaCount(header, key("feed_forward_length")),
    vocabSize,
    contextLength: metaCount(header, key("context_length"), 2048),
    ropeDim: metaCount(header, key("rope.dimension_count"), headDim),
    ropeFreqBase: metaNumber(header, key("rope.freq_base"), 10000),
    ropeFreqScale,
    rmsEps: metaNumber(header, key("attention.layer_norm_rms_epsilon"), 1e-5),
    slidingWindow: header.metadata.has(key("attention.sliding_window")) ? metaCount(header, key("attention.sliding_window")) : 0,
    tiedOutput: !header.tensorByName.has("output.weight"),
  };
  if (config.ropeDim > headDim || config.ropeDim % 2 !== 0) {
    throw new GgufError("bad_metadata", `rope.dimension_count ${config.ropeDim} must be even and at most the head dimension ${headDim}`);
  }
  checkTensorShapes(header, config);
  return config;
}

function requireTensor(header: GgufHeader, name: string): GgufTensorInfo {
  const tensor = header.tensorByName.get(name);
  if (!tensor) throw new GgufError("missing_tensor", `tensor "${name}" is missing`);
  return tensor;
}

function expectDims(header: GgufHeader, name: string, expected: number[], why: string): void {
  const tensor = requireTensor(header, name);
  const same = tensor.dims.length === expected.length && tensor.dims.every((d, i) => d === expected[i]);
  if (!same) {
    throw new GgufError(
      "shape_mismatch",
      `tensor "${name}" has dims [${tensor.dims.join(", ")}] but the metadata implies [${expected.join(", ")}] (${why})`,
    );
  }
  assertReadableTensorType(tensor);
}

/** Every tensor the graph reads, with the shape the metadata implies (ggml order: [in, out]). */
export function checkTensorShapes(header: GgufHeader, c: LlamaConfig): void {
  const qDim = c.qHeads * c.headDim;
  const kvDim = c.kvHeads * c.headDim;
  expectDims(header, "token_embd.weight", [c.dim, c.vocabSize], "embedding_length × vocab");
  expectDims(header, "output_norm.weight", [c.dim], "embedding_length");
  if (!c.tiedOutput) expectDims(header, "output.weight", [c.dim, c.vocabSize], "embedding_length × vocab");
  for (let l = 0; l < c.layers; l++) {
    const p = `blk.${l}.`;
    expectDims(header, `${p}attn_norm.weight`, [c.dim], "embedding_length");
    expectDims(header, `${p}attn_q.weight`, [c.dim, qDim], "embedding_length × head_count·head_dim");
    expectDims(header, `${p}attn_k.weight`, [c.dim, kvDim], "embedding_length × head_count_kv·head_dim");
    expectDims(header, `${p}attn_v.weight`, [c.dim, kvDim], "embedding_length × head_count_kv·head_dim");
    expectDims(header, `${p}attn_output.weight`, [qDim, c.dim], "head_count·head_dim × embedding_length");
    expectDims(header, `${p}ffn_norm.weight`, [c.dim], "embedding_length");
    expectDims(header, `${p}ffn_gate.weight`, [c.dim, c.ffnDim], "embedding_length × feed_forward_length");
    expectDims(header, `${p}ffn_up.weight`, [c.dim, c.ffnDim], "embedding_length × feed_forward_length");
    expectDims(header, `${p}ffn_down.weight`, [c.ffnDim, c.dim], "feed_forward_length × embedding_length");
  }
  const tokens = header.metadata.get("tokenizer.ggml.tokens");
  if (Array.isArray(tokens) && tokens.length !== c.vocabSize) {
    throw new GgufError(
      "shape_mismatch",
      `the vocabulary has ${tokens.length} tokens but token_embd.weight has ${c.vocabSize} rows`,
    );
  }
}
