// An independent CPU reference of the Llama forward pass, written from the model definition: the oracle
// the GPU runtime is checked against. Weights are dequantized to float32 once; every sum is accumulated in
// float64 so the reference itself adds no noise worth mentioning. Slow and simple on purpose.
//
// Per token at position pos:
//   x = token_embd[id]
//   per layer:  h = rmsnorm(x) · attn_norm
//               q, k, v = Wq h, Wk h, Wv h;  rope(q, k, pos)
//               x += Wo · attention(q, K[0..pos], V[0..pos])
//               h = rmsnorm(x) · ffn_norm
//               x += Wdown · (silu(Wgate h) * (Wup h))
//   logits = Woutput · (rmsnorm(x) · output_norm)

import { fileSource } from "../../src/gguf/node-source.js";
import {
  dequantize,
  metaCount,
  metaNumber,
  metaString,
  readGgufHeader,
  readTensorBytes,
  type ByteSource,
  type GgufHeader,
} from "../../src/gguf/index.js";

export interface ReferenceConfig {
  dim: number; // embedding length
  nLayers: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number; // dim / nHeads
  ffnDim: number; // feed-forward hidden size
  vocabSize: number; // rows of token_embd
  ropeBase: number;
  ropeDim: number; // leading dims of each head that are rotated
  rmsEps: number;
  contextLength: number;
  tiedOutput: boolean; // no output.weight: the head is token_embd
}

/** A weight matrix [out rows × in columns], row-major: W[o * in + i] (ggml dims [in, out]). */
interface Matrix {
  inputs: number;
  outputs: number;
  values: Float32Array;
}

interface LayerWeights {
  attnNorm: Float32Array; // [dim]
  wq: Matrix; // [nHeads * headDim ← dim]
  wk: Matrix; // [nKvHeads * headDim ← dim]
  wv: Matrix; // [nKvHeads * headDim ← dim]
  wo: Matrix; // [dim ← nHeads * headDim]
  ffnNorm: Float32Array; // [dim]
  wGate: Matrix; // [ffnDim ← dim]
  wUp: Matrix; // [ffnDim ← dim]
  wDown: Matrix; // [dim ← ffnDim]
}

interface Weights {
  tokenEmbedding: Matrix; // [vocab ← dim]: row t is token t's embedding
  layers: LayerWeights[];
  outputNorm: Float32Array; // [dim]
  output: Matrix; // [vocab ← dim]
}

// ---------------------------------------------------------------------------------------------------------
// Loading

function configFromHeader(header: GgufHeader): ReferenceConfig {
  const arch = metaString(header, "general.architecture");
  if (arch !== "llama") throw new Error(`reference model: architecture "${arch}" is not llama`);
  const dim = metaCount(header, "llama.embedding_length");
  const nHeads = metaCount(header, "llama.attention.head_count");
  const headDim = dim / nHeads;
  const embedding = header.tensorByName.get("token_embd.weight");
  if (!embedding) throw new Error("reference model: token_embd.weight is missing");
  return {
    dim,
    nLayers: metaCount(header, "llama.block_count"),
    nHeads,
    nKvHeads: metaCount(header, "llama.attention.head_count_kv", nHeads),
    headDim,
    ffnDim: metaCount(header, "llama.feed_forward_length"),
    vocabSize: embedding.dims[1]!,
    ropeBase: metaNumber(header, "llama.rope.freq_base", 10000),
    ropeDim: metaCount(header, "llama.rope.dimension_count", headDim),
    rmsEps: metaNumber(header, "llama.attention.layer_norm_rms_epsilon", 1e-5),
    contextLength: metaCount(header, "llama.context_length", 2048),
    tiedOutput: !header.tensorByName.has("output.weight"),
  };
}

async function loadVector(source: ByteSource, header: GgufHeader, name: string, length: number): Promise<Float32Array> {
  const info = header.tensorByName.get(name);
  if (!info) throw new Error(`reference model: tensor ${name} is missing`);
  if (info.elementCount !== length) throw new Error(`reference model: ${name} has ${info.elementCount} values, expected ${length}`);
  return dequantize(info.type, await readTensorBytes(source, info), info.elementCount);
}

async function loadMatrix(source: ByteSource, header: GgufHeader, name: string, inputs: number, outputs: number): Promise<Matrix> {
  const info = header.tensorByName.get(name);
  if (!info) throw new Error(`reference model: tensor ${name} is missing`);
  if (info.dims.length !== 2 || info.dims[0] !== inputs || info.dims[1] !== outputs) {
    throw new Error(`reference model: ${name} has dims [${info.dims.join(", ")}], expected [${inputs}, ${outputs}]`);
  }
  return { inputs, outputs, values: dequantize(info.type, await readTensorBytes(source, info), info.elementCount) };
}

async function loadWeights(source: ByteSource, header: GgufHeader, c: ReferenceConfig): Promise<Weights> {
  const qDim = c.nHeads * c.headDim;
  const kvDim = c.nKvHeads * c.headDim;
  const layers: LayerWeights[] = [];
  for (let l = 0; l < c.nLayers; l++) {
    const blk = `blk.${l}`;
    layers.push({
      attnNorm: await loadVector(source, header, `${blk}.attn_norm.weight`, c.dim),
      wq: await loadMatrix(source, header, `${blk}.attn_q.weight`, c.dim, qDim),
      wk: await loadMatrix(source, header, `${blk}.attn_k.weight`, c.dim, kvDim),
      wv: await loadMatrix(source, header, `${blk}.attn_v.weight`, c.dim, kvDim),
      wo: await loadMatrix(source, header, `${blk}.attn_output.weight`, qDim, c.dim),
      ffnNorm: await loadVector(source, header, `${blk}.ffn_norm.weight`, c.dim),
      wGate: await loadMatrix(source, header, `${blk}.ffn_gate.weight`, c.dim, c.ffnDim),
      wUp: await loadMatrix(source, header, `${blk}.ffn_up.weight`, c.dim, c.ffnDim),
      wDown: await loadMatrix(source, header, `${blk}.ffn_down.weight`, c.ffnDim, c.dim),
    });
  }
  const tokenEmbedding = await loadMatrix(source, header, "token_embd.weight", c.dim, c.vocabSize);
  return {
    tokenEmbedding,
    layers,
    outputNorm: await loadVector(source, header, "output_norm.weight", c.dim),
    output: c.tiedOutput ? tokenEmbedding : await loadMatrix(source, header, "output.weight", c.dim, c.vocabSize),
  };
}

// ---------------------------------------------------------------------------------------------------------
// The math, in float64

/** out = rmsnorm(x) · weight:  x[i] / sqrt(mean(x²) + eps) · weight[i] */
function rmsNorm(out: Float64Array, x: Float64Array, weight: Float32Array, eps: number): void {
  let sumSquares = 0;
  for (let i = 0; i < x.length; i++) sumSquares += x[i]! * x[i]!;
  const scale = 1 / Math.sqrt(sumSquares / x.length + eps);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! * scale * weight[i]!;
}

/** y[o] = Σ_i W[o * in + i] · x[i] */
function matvec(y: Float64Array, w: Matrix, x: Float64Array): void {
  const { inputs, outputs, values } = w;
  for (let o = 0; o < outputs; o++) {
    const row = o * inputs;
    let sum = 0;
    for (let i = 0; i < inputs; i++) sum += values[row + i]! * x[i]!;
    y[o] = sum;
  }
}

/**
 * RoPE, llama.cpp's "normal" layout (LLAMA_ROPE_TYPE_NORM): within each head, the adjacent pair
 * (v[2i], v[2i+1]) for 2i < ropeDim is rotated by pos · base^(−2i / ropeDim); the rest is left alone.
 * v: [nHeads * headDim]
 */
function rope(v: Float64Array, nHeads: number, headDim: number, ropeDim: number, base: number, pos: number): void {
  for (let h = 0; h < nHeads; h++) {
    for (let i = 0; 2 * i < ropeDim; i++) {
      const angle = pos * Math.pow(base, (-2 * i) / ropeDim);
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      const at = h * headDim + 2 * i;
      const a = v[at]!;
      const b = v[at + 1]!;
      v[at] = a * cos - b * sin;
      v[at + 1] = a * sin + b * cos;
    }
  }
}

function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

// ---------------------------------------------------------------------------------------------------------
// A sequence being evaluated: the KV cache and scratch buffers

export class ReferenceSession {
  /** Tokens fed so far (the next token goes to this position). */
  position = 0;
  // KV cache per layer: [contextLength × nKvHeads * headDim], position-major
  private readonly keyCache: Float64Array[];
  private readonly valueCache: Float64Array[];
  // scratch
  private readonly x: Float64Array; // [dim] residual stream
  private readonly h: Float64Array; // [dim] normed input of a block
  private readonly q: Float64Array; // [nHeads * headDim]
  private readonly k: Float64Array; // [nKvHeads * headDim]
  private readonly v: Float64Array; // [nKvHeads * headDim]
  private readonly attnOut: Float64Array; // [nHeads * headDim]
  private readonly blockOut: Float64Array; // [dim]
  private readonly gate: Float64Array; // [ffnDim]
  private readonly up: Float64Array; // [ffnDim]
  private readonly scores: Float64Array; // [contextLength]
  private readonly logits: Float64Array; // [vocab]

  constructor(
    private readonly config: ReferenceConfig,
    private readonly weights: Weights,
    private readonly maxPositions: number,
  ) {
    const c = config;
    const kvDim = c.nKvHeads * c.headDim;
    this.keyCache = weights.layers.map(() => new Float64Array(maxPositions * kvDim));
    this.valueCache = weights.layers.map(() => new Float64Array(maxPositions * kvDim));
    this.x = new Float64Array(c.dim);
    this.h = new Float64Array(c.dim);
    this.q = new Float64Array(c.nHeads * c.headDim);
    this.k = new Float64Array(kvDim);
    this.v = new Float64Array(kvDim);
    this.attnOut = new Float64Array(c.nHeads * c.headDim);
    this.blockOut = new Float64Array(c.dim);
    this.gate = new Float64Array(c.ffnDim);
    this.up = new Float64Array(c.ffnDim);
    this.scores = new Float64Array(maxPositions);
    this.logits = new Float64Array(c.vocabSize);
  }

  /** Feeds one token at the next position; returns the logits for the token after it. */
  next(token: number): Float32Array {
    const c = this.config;
    const w = this.weights;
    const pos = this.position;
    if (pos >= this.maxPositions) throw new Error(`reference session is full (${this.maxPositions} positions)`);
    if (!Number.isInteger(token) || token < 0 || token >= c.vocabSize) throw new Error(`token ${token} is outside the vocabulary`);
    const { x, h, q, k, v, attnOut, blockOut, gate, up, scores } = this;
    const kvDim = c.nKvHeads * c.headDim;
    const headsPerKv = c.nHeads / c.nKvHeads;
    const attentionScale = 1 / Math.sqrt(c.headDim);

    // x = token_embd[token]
    const embedding = w.tokenEmbedding.values;
    for (let i = 0; i < c.dim; i++) x[i] = embedding[token * c.dim + i]!;

    for (let l = 0; l < c.nLayers; l++) {
      const layer = w.layers[l]!;
      const keyCache = this.keyCache[l]!;
      const valueCache = this.valueCache[l]!;

      // attention block
      rmsNorm(h, x, layer.attnNorm, c.rmsEps);
      matvec(q, layer.wq, h);
      matvec(k, layer.wk, h);
      matvec(v, layer.wv, h);
      rope(q, c.nHeads, c.headDim, c.ropeDim, c.ropeBase, pos);
      rope(k, c.nKvHeads, c.headDim, c.ropeDim, c.ropeBase, pos);
      keyCache.set(k, pos * kvDim);
      valueCache.set(v, pos * kvDim);

      for (let head = 0; head < c.nHeads; head++) {
        const qAt = head * c.headDim;
        const kvAt = Math.floor(head / headsPerKv) * c.headDim; // grouped-query: heads share a KV head
        // scores[t] = q · K[t] / sqrt(headDim), for t = 0..pos (causal)
        let maxScore = -Infinity;
        for (let t = 0; t <= pos; t++) {
          let dot = 0;
          for (let i = 0; i < c.headDim; i++) dot += q[qAt + i]! * keyCache[t * kvDim + kvAt + i]!;
          scores[t] = dot * attentionScale;
          if (scores[t]! > maxScore) maxScore = scores[t]!;
        }
        // softmax
        let sum = 0;
        for (let t = 0; t <= pos; t++) {
          scores[t] = Math.exp(scores[t]! - maxScore);
          sum += scores[t]!;
        }
        // attnOut[head] = Σ_t softmax[t] · V[t]
        for (let i = 0; i < c.headDim; i++) {
          let acc = 0;
          for (let t = 0; t <= pos; t++) acc += scores[t]! * valueCache[t * kvDim + kvAt + i]!;
          attnOut[qAt + i] = acc / sum;
        }
      }
      matvec(blockOut, layer.wo, attnOut);
      for (let i = 0; i < c.dim; i++) x[i] = x[i]! + blockOut[i]!;

      // feed-forward block (SwiGLU)
      rmsNorm(h, x, layer.ffnNorm, c.rmsEps);
      matvec(gate, layer.wGate, h);
      matvec(up, layer.wUp, h);
      for (let i = 0; i < c.ffnDim; i++) gate[i] = silu(gate[i]!) * up[i]!;
      matvec(blockOut, layer.wDown, gate);
      for (let i = 0; i < c.dim; i++) x[i] = x[i]! + blockOut[i]!;
    }

    rmsNorm(h, x, w.outputNorm, c.rmsEps);
    matvec(this.logits, w.output, h);
    this.position++;
    return Float32Array.from(this.logits);
  }
}

// ---------------------------------------------------------------------------------------------------------

export class ReferenceLlama {
  constructor(
    readonly config: ReferenceConfig,
    private readonly weights: Weights,
  ) {}

  /** A fresh sequence with an empty KV cache (room for maxPositions tokens, default the context length). */
  session(maxPositions = this.config.contextLength): ReferenceSession {
    return new ReferenceSession(this.config, this.weights, maxPositions);
  }

  /** Teacher-forced: the logits after each position of `ids` (logits[p] predicts ids[p + 1]). */
  logitsForSequence(ids: number[]): Float32Array[] {
    const session = this.session(ids.length);
    return ids.map((id) => session.next(id));
  }
}

export async function loadReferenceModel(path: string): Promise<ReferenceLlama> {
  const source = await fileSource(path);
  try {
    const header = await readGgufHeader(source);
    const config = configFromHeader(header);
    return new ReferenceLlama(config, await loadWeights(source, header, config));
  } finally {
    await source.close?.();
  }
}

/** Index of the largest value (the first one on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}
