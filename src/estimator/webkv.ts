// webkv's own runtime, analytically: the bytes each category of the allocator will hold for one run, from
// the model's shapes (and GGUF tensor list) and the run's settings — without loading anything. This is the
// `memory.predicted` that `webkv run` and `webkv validate` set beside the allocator's measured counts; it is
// written from webkv's documented buffer plan (docs/memory.md, "webkv's own buffers"), not from its code.
//
//   weights           every matrix still quantized, split into chunks of at most one binding (whole rows; a
//                     fused tensor as its parts); per chunk data (Q8_0: 32 B, Q4_0: 16 B per 32 values + f16
//                     scales padded to 4 bytes; other quantized types: each GGUF block padded to 4 bytes,
//                     webkvGpuBlock in weight-formats.ts; F32/F16/BF16 as stored); norms and biases as f32;
//                     RoPE factor tensors stay on the CPU; a tied output head shares the embedding
//   kv                per layer numBlocks × blockBytes + tails × tailBytes, layers packed into buffers at a
//                     256-byte stride; blockBytes per K/V format:
//                       f32 4·B·H·D · f16 2·B·H·D · int8 B·H·D + scale bytes · int4 B·H·D/2 + scale + zero bytes
//                       token groups: (H·D / G)·B scale bytes, G = 32 (head_dim ≥ 32) or whole heads up to 32
//                       channel groups: H·D scale bytes — each area rounded up to 4 bytes
//                     tails (quantized formats): one per sequence, 2·H·B·D·4 bytes per layer
//   activations       the step buffers and activations for maxStepTokens tokens (x, xb, q, k|v, att, gate, up,
//                     logit rows, logits, argmax ids, step inputs), k and v sharing one buffer at a 256-byte-aligned offset;
//                     with int8 inputs (SwiftShader's decode), one token's quantized input: ⌈cols/32 × 10 words⌉₄ × 4
//                     for the widest input of a Q8_0/Q4_0 matrix of ≥ 65,536 weights;
//                     Gemma adds the projection before its post-norms, Gemma 3 a second RoPE table
//   attention_scratch flash: maxSeqs × H_q × maxChunks × (D + 2) × 4; naive: tokens × H_q × ⌈context/256⌉·256 × 4
//                     of the largest step
//   staging           the logits readback: maxLogitRows × vocab × 4, and an argmax readback per greedy step in
//                     flight (the chain depth c, 2 by default): c × maxLogitRows × 4
//   other             48-byte uniforms per matmul chunk (×2: decode and prefill variants), 16-byte ones per
//                     embedding chunk, a 4-byte placeholder (bound as the scales of matrices that have none), one
//                     block-sized copy bounce

import type { ModelDescription, TensorInfo } from "./model.js";
import { ggmlTypeId, webkvGpuBlock } from "./weight-formats.js";

export type WebkvKvType = "f32" | "f16" | "int8" | "int4";

export interface WebkvKvSection {
  type: WebkvKvType;
  grouping: "token" | "channel";
}

export interface WebkvRunSettings {
  blockSize: number;
  /** KV blocks per layer in the pool. */
  kvBlocks: number;
  k: WebkvKvSection;
  v: WebkvKvSection;
  maxSeqs: number;
  maxStepTokens: number;
  attention: "flash" | "naive";
  /** The run: a prompt of this many tokens, then this many generated (each a decode step). */
  promptTokens: number;
  generatedTokens: number;
  /** Adapter facts the runtime sizes by. */
  maxBindingBytes: number;
  /** A cap on weight chunks below the binding size (tests force splitting with it). */
  weightChunkBytes?: number;
  maxBufferSize: number;
  offsetAlignment: number;
  /** Split-K decode chunk cap (16 on CPU adapters, 64 on GPUs). */
  decodeMaxChunks: number;
  /** Greedy decode steps in flight at once (tuning.chainDepth): one argmax readback each. */
  chainDepth: number;
  /** RoPE dimensions (default head_dim). */
  ropeDim?: number;
  /** Whether the runtime quantizes the inputs of its Q8_0/Q4_0 matmuls to int8 blocks (tuning.int8Activations). */
  int8Activations?: boolean;
  /** Whether q, k and v of one weight type are stacked into one matrix (tuning.fuseQkv; default true, as the runtime). */
  fuseQkv?: boolean;
  /** Whether gate and up of one type, 2·ffn rows in one chunk, are one interleaved matrix (the runtime's plan.fuse_gate_up). */
  fuseGateUp?: boolean;
  /** The context the run serves (--context; default the model's): sizes the block tables. */
  contextSize?: number;
}

export interface WebkvMemory {
  weights: number;
  kv: number;
  activations: number;
  attention_scratch: number;
  staging: number;
  other: number;
  total: number;
  kv_bytes_per_token_per_layer: number;
  formulas: string[];
}

const align = (bytes: number, to: number) => Math.ceil(bytes / to) * to;
/** ggml type ids of the formats the int8-input matmul reads. */
const GGML_Q4_0 = 2;
const GGML_Q8_0 = 8;
/** The smallest matrix (rows × cols) given int8 inputs: the runtime's rule (INT8_INPUT_MIN_WEIGHTS in src/kernels/matmul.ts). */
const INT8_INPUT_MIN_WEIGHTS = 65536;

/** Bytes of one row on the GPU: data and f16 scales. */
function rowBytes(type: number, cols: number): { data: number; scales: number } {
  const block = webkvGpuBlock(type);
  const blocks = cols / block.blockElements;
  return { data: blocks * block.data, scales: blocks * block.scales };
}

/** A matrix [rows, cols] of ggml type `type` split into chunks of at most one binding: bytes and chunk count. */
export function webkvMatrixBytes(type: number, rows: number, cols: number, maxChunk: number): { bytes: number; chunks: number } {
  const row = rowBytes(type, cols);
  const rowsPerChunk = Math.max(1, Math.floor(maxChunk / Math.max(row.data, row.scales + 2, 1)));
  let bytes = 0;
  let chunks = 0;
  for (let first = 0; first < rows; first += rowsPerChunk) {
    const count = Math.min(rowsPerChunk, rows - first);
    bytes += align(count * row.data, 4);
    if (row.scales > 0) bytes += align(count * row.scales, 4);
    chunks++;
  }
  return { bytes, chunks };
}

interface WeightInventory {
  /** Matrices as uploaded: q, k and v of one type are one stacked matrix [Wq; Wk; Wv] (fuseQkv; Phi-3's attn_qkv as
   *  it is), else three; gate and up one interleaved matrix where paired (fuseGateUp), else two (a fused ffn_up = [gate;
   *  up] as its parts). */
  matrices: { name: string; type: number; rows: number; cols: number }[];
  /** f32 vectors on the GPU: norms, q/k norms, biases. */
  normFloats: number;
}

/** Tensors read on the CPU only (RoPE factors are folded into the angles), never uploaded. */
const CPU_ONLY_TENSORS = /^(rope_freqs|rope_factors_short|rope_factors_long)\.weight$/;

/**
 * What webkv uploads, from the GGUF tensor list when there is one (any architecture): every 2-D tensor as
 * a matrix — split into its parts when fused — and every 1-D tensor as f32. Without a tensor list, the Llama
 * block is assumed.
 */
function weightTensors(model: ModelDescription, fuseQkv: boolean, fuseGateUp: boolean, maxChunk: number): WeightInventory {
  const qDim = model.heads * model.headDim;
  const kvDim = model.kvHeads * model.headDim;
  if (model.tensors && model.tensors.length > 0) {
    const matrices: WeightInventory["matrices"] = [];
    let normFloats = 0;
    const typeOf = new Map(model.tensors.map((t) => [t.name, ggmlTypeId(t.type)]));
    for (const t of model.tensors) {
      if (CPU_ONLY_TENSORS.test(t.name)) continue;
      const type = ggmlTypeId(t.type);
      const [cols, rows = 1] = t.dims;
      const separateQkv = /^(.*)\.attn_[qkv]\.weight$/.exec(t.name);
      const qkvTypes = separateQkv ? ["q", "k", "v"].map((part) => typeOf.get(`${separateQkv[1]}.attn_${part}.weight`)) : [];
      // gate and up: a fused ffn_up [gate; up] or ffn_gate + ffn_up; paired in one chunk of 2·ffn rows
      const ffnPart = /^(.*)\.ffn_(gate|up)\.weight$/.exec(t.name);
      const fusedUp = ffnPart?.[2] === "up" && rows === 2 * model.ffnSize;
      const pairTypes = ffnPart && !fusedUp ? [typeOf.get(`${ffnPart[1]}.ffn_gate.weight`), typeOf.get(`${ffnPart[1]}.ffn_up.weight`)] : [type];
      const paired = ffnPart !== null && fuseGateUp && pairTypes.every((other) => other === type) &&
        webkvMatrixBytes(type, 2 * model.ffnSize, cols!, maxChunk).chunks === 1;
      if (t.dims.length === 1) {
        normFloats += cols!;
      } else if (/\.attn_qkv\.weight$/.test(t.name)) {
        if (fuseQkv) matrices.push({ name: t.name, type, rows, cols: cols! });
        else matrices.push({ name: t.name, type, rows: qDim, cols: cols! }, { name: t.name, type, rows: kvDim, cols: cols! }, { name: t.name, type, rows: kvDim, cols: cols! });
      } else if (separateQkv && fuseQkv && qkvTypes.every((other) => other === type)) {
        // stacked [Wq; Wk; Wv]: counted once, at attn_q
        if (t.name.endsWith(".attn_q.weight")) matrices.push({ name: `${separateQkv[1]}.attn_qkv.weight`, type, rows: qDim + 2 * kvDim, cols: cols! });
      } else if (paired) {
        // [Wgate; Wup] interleaved: counted once, at ffn_up
        if (ffnPart![2] === "up") matrices.push({ name: `${ffnPart![1]}.ffn_gate_up.weight`, type, rows: 2 * model.ffnSize, cols: cols! });
      } else if (/\.ffn_up\.weight$/.test(t.name) && rows === 2 * model.ffnSize) {
        matrices.push({ name: t.name, type, rows: model.ffnSize, cols: cols! }, { name: t.name, type, rows: model.ffnSize, cols: cols! });
      } else {
        matrices.push({ name: t.name, type, rows, cols: cols! });
      }
    }
    return { matrices, normFloats };
  }
  const matrix = (name: string, cols: number, rows: number) => ({ name, type: 0, rows, cols });
  const matrices = [matrix("token_embd.weight", model.hiddenSize, model.vocabSize)];
  for (let l = 0; l < model.layers; l++) {
    const p = `blk.${l}.`;
    matrices.push(
      ...(fuseQkv
        ? [matrix(`${p}attn_qkv.weight`, model.hiddenSize, qDim + 2 * kvDim)]
        : [matrix(`${p}attn_q.weight`, model.hiddenSize, qDim), matrix(`${p}attn_k.weight`, model.hiddenSize, kvDim), matrix(`${p}attn_v.weight`, model.hiddenSize, kvDim)]),
      matrix(`${p}attn_output.weight`, qDim, model.hiddenSize),
      ...(fuseGateUp && webkvMatrixBytes(0, 2 * model.ffnSize, model.hiddenSize, maxChunk).chunks === 1
        ? [matrix(`${p}ffn_gate_up.weight`, model.hiddenSize, 2 * model.ffnSize)]
        : [matrix(`${p}ffn_gate.weight`, model.hiddenSize, model.ffnSize), matrix(`${p}ffn_up.weight`, model.hiddenSize, model.ffnSize)]),
      matrix(`${p}ffn_down.weight`, model.ffnSize, model.hiddenSize),
    );
  }
  if (!model.tiedEmbeddings) matrices.push(matrix("output.weight", model.hiddenSize, model.vocabSize));
  return { matrices, normFloats: (2 * model.layers + 1) * model.hiddenSize };
}

/** Architectures whose layers norm their outputs before the residual add: one more [tokens, dim] buffer. */
const POST_NORM_ARCHITECTURES = new Set(["gemma2", "gemma3"]);
/** Architectures with a second RoPE table for their local layers. */
const LOCAL_ROPE_ARCHITECTURES = new Set(["gemma3"]);

/** Values per quantization group along a token: 32 for wide heads, else whole heads joined up to 32. */
function tokenGroup(kvHeads: number, headDim: number): number {
  if (headDim >= 32) return [32, 16, 8].find((n) => headDim % n === 0) ?? headDim;
  let heads = 1;
  for (let h = 1; h <= kvHeads; h++) if (kvHeads % h === 0 && h * headDim <= 32) heads = h;
  return heads * headDim;
}

/** Bytes of one K or V section of one block (one layer). */
export function webkvSectionBytes(section: WebkvKvSection, blockSize: number, kvHeads: number, headDim: number): number {
  const values = blockSize * kvHeads * headDim;
  if (section.type === "f32") return values * 4;
  if (section.type === "f16") return values * 2;
  const data = section.type === "int8" ? values : values / 2;
  const groups = section.grouping === "token" ? ((kvHeads * headDim) / tokenGroup(kvHeads, headDim)) * blockSize : kvHeads * headDim;
  const groupBytes = align(groups, 4);
  return data + groupBytes * (section.type === "int4" ? 2 : 1);
}

export function webkvRunMemory(model: ModelDescription, s: WebkvRunSettings): WebkvMemory {
  const formulas: string[] = [];
  const H = model.kvHeads;
  const D = model.headDim;
  const B = s.blockSize;
  const qDim = model.heads * D;
  const kvDim = H * D;
  const dim = model.hiddenSize;
  const vocab = model.vocabSize;
  const bindingLimit = Math.min(s.maxBindingBytes, s.maxBufferSize);
  const maxChunk = Math.min(bindingLimit, s.weightChunkBytes ?? Infinity);

  // Weights.
  const { matrices, normFloats } = weightTensors(model, s.fuseQkv ?? true, s.fuseGateUp ?? false, maxChunk);
  let weights = normFloats * 4;
  let matmulChunks = 0;
  let embeddingChunks = 0;
  for (const m of matrices) {
    const { bytes, chunks } = webkvMatrixBytes(m.type, m.rows, m.cols, maxChunk);
    weights += bytes;
    if (m.name === "token_embd.weight") embeddingChunks = chunks;
    if (m.name !== "token_embd.weight" || model.tiedEmbeddings) matmulChunks += chunks;
  }
  formulas.push(`weights = Σ matrices (data + f16 scales, per binding-sized chunk) + ${normFloats} norm floats × 4 = ${weights} B`);

  // KV pool.
  const blockBytes = webkvSectionBytes(s.k, B, H, D) + webkvSectionBytes(s.v, B, H, D);
  const quantized = s.k.type.startsWith("int") || s.v.type.startsWith("int");
  const tailBytes = quantized ? 2 * H * B * D * 4 : 0;
  const tails = quantized ? s.maxSeqs : 0;
  const layerBytes = s.kvBlocks * blockBytes + tails * tailBytes;
  const stride = align(layerBytes, s.offsetAlignment);
  const layersPerBuffer = Math.max(1, Math.floor(s.maxBufferSize / stride));
  let kv = 0;
  for (let first = 0; first < model.layers; first += layersPerBuffer) {
    const count = Math.min(layersPerBuffer, model.layers - first);
    kv += (count - 1) * stride + layerBytes;
  }
  formulas.push(
    `kv = ${model.layers} layers × (${s.kvBlocks} blocks × ${blockBytes} B + ${tails} tails × ${tailBytes} B), 256-B layer stride = ${kv} B`,
  );

  // Activations and step inputs.
  const T = s.maxStepTokens;
  const logitRows = Math.max(1, Math.min(T, Math.floor(bindingLimit / (vocab * 4))));
  const ropePairs = (s.ropeDim ?? D) / 2;
  const kvRows = T * kvDim * 4;
  const ropeTables = LOCAL_ROPE_ARCHITECTURES.has(model.architecture) ? 2 : 1;
  const contextLength = Math.min(s.contextSize ?? model.contextLength, model.contextLength);
  const stepInputs = 32 + T * 16 + s.maxSeqs * 32 + s.maxSeqs * Math.ceil(contextLength / B) * 4 + logitRows * 4 +
    ropeTables * T * ropePairs * 8 + Math.max(1, Math.ceil(T / B) + s.maxSeqs) * 8;
  const projected = POST_NORM_ARCHITECTURES.has(model.architecture) ? 4 * T * dim : 0;
  // the step's k, v and q rows share one buffer, v and q each at the next offset a binding may start at
  const activationBuffers = 4 * T * (2 * dim + qDim + 2 * model.ffnSize) + align(align(kvRows, s.offsetAlignment) + kvRows, s.offsetAlignment) + 4 * T * qDim +
    4 * logitRows * (dim + vocab + 1) + projected;
  // Int8 inputs (decode): one token's row of the widest input of a Q8_0/Q4_0 matrix of at least 65,536 weights,
  // per 32 values 8 words of int8, a scale and a sum, padded to whole vec4s.
  const int8Cols = s.int8Activations
    ? Math.max(0, ...matrices.filter((m) => (m.name !== "token_embd.weight" || model.tiedEmbeddings) && (m.type === GGML_Q8_0 || m.type === GGML_Q4_0) &&
      m.rows * m.cols >= INT8_INPUT_MIN_WEIGHTS).map((m) => m.cols))
    : 0;
  const int8Inputs = int8Cols > 0 ? align((int8Cols / 32) * 10, 4) * 4 : 0;
  const activations = stepInputs + activationBuffers + int8Inputs;
  formulas.push(`activations = step inputs ${stepInputs} B + buffers for ${T} tokens and ${logitRows} logit rows ${activationBuffers} B` +
    `${int8Inputs ? ` + a decode step's int8 input ⌈${int8Cols}/32 × 10 words⌉₄ × 4 = ${int8Inputs} B` : ""} = ${activations} B`);

  // Attention scratch: flash's partials are fixed; naive's grows to the largest step's score matrix.
  let scratch: number;
  if (s.attention === "flash") {
    scratch = s.maxSeqs * model.heads * s.decodeMaxChunks * (D + 2) * 4;
    formulas.push(`attention_scratch (flash) = ${s.maxSeqs} seqs × ${model.heads} heads × ${s.decodeMaxChunks} chunks × (${D} + 2) × 4 = ${scratch} B`);
  } else {
    const need = (tokens: number, context: number) => tokens * model.heads * align(context, 256) * 4;
    scratch = need(1, Math.min(256, model.contextLength));
    for (let done = 0; done < s.promptTokens; done += T) {
      const tokens = Math.min(T, s.promptTokens - done);
      scratch = Math.max(scratch, need(tokens, done + tokens));
    }
    for (let g = 1; g < s.generatedTokens; g++) scratch = Math.max(scratch, need(1, s.promptTokens + g));
    formulas.push(`attention_scratch (naive) = largest step's tokens × ${model.heads} heads × context (rounded to 256) × 4 = ${scratch} B`);
  }

  const staging = logitRows * vocab * 4 + s.chainDepth * logitRows * 4;
  const placeholder = matrices.some((m) => webkvGpuBlock(m.type).scales === 0) ? 4 : 0; // bound as the "scales" of matrices without
  const other = 48 * 2 * matmulChunks + 16 * embeddingChunks + placeholder + Math.max(blockBytes, tailBytes);
  formulas.push(`staging = ${logitRows} × (${vocab} + ${s.chainDepth} steps in flight) × 4 = ${staging} B; other = uniforms, placeholder, copy bounce = ${other} B`);
  const total = weights + kv + activations + scratch + staging + other;
  return {
    weights, kv, activations, attention_scratch: scratch, staging, other, total,
    kv_bytes_per_token_per_layer: blockBytes / B, formulas,
  };
}
