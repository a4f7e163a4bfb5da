// Synthetic models of any shape, in the tensor layout of each architecture webkv runs (llama, qwen2, qwen3,
// gemma2, gemma3, phi3): seeded random weights plus a SentencePiece vocabulary that llama.cpp loads, as
// metadata and tensors ready for encodeGguf / writeGgufFile. Browser-safe.
//
// Weights are drawn so the forward pass stays well conditioned at any size:
//   matrices               N(0, 1/fan_in)          each matvec keeps unit-scale activations
//   attn_output, ffn_down  N(0, 1/(fan_in·2L))     GPT-2's residual scaling: L layers add up to about one
//                                                  embedding's worth, so the residual stream stays O(1)
//   token embedding        N(0, 1)                 (tied output: N(0, logitStd²/dim), it is the head too)
//   output head            N(0, logitStd²/dim)     after the final RMSNorm (rms 1) logits have std ≈ logitStd
//                          + a bigram (see `confidence`): the top-1 usually stands clear of the rest
//   norms                  N(1, 0.1²)
//
// Each tensor has its own random stream keyed by (seed, tensor name), and is generated only when the
// writer asks for it, so a large model never sits in memory whole and tensor order does not matter.

import { Random } from "./random.js";
import { GgmlType, ggmlTypeName, GGML_TYPE_LAYOUT } from "./types.js";
import { meta, type GgufWriteTensor, type GgufWriteValue } from "./writer.js";

export type SyntheticArchitecture = "llama" | "qwen2" | "qwen3" | "gemma2" | "gemma3" | "phi3";

/** RoPE scaling written into the metadata (and tensors) as GGUF describes it. */
export type SyntheticRopeScaling =
  | { type: "linear"; factor: number }
  | { type: "yarn"; factor: number; originalContext: number }
  /** Llama 3.1+: a rope_freqs.weight tensor of per-pair divisors (llama3 scaling as the converter bakes it). */
  | { type: "llama3"; factor: number; lowFreqFactor: number; highFreqFactor: number; originalContext: number }
  /** Phi-3 LongRoPE: rope_factors_short/long tensors and the attention factor. */
  | { type: "longrope"; originalContext: number; attnFactor: number };

export interface SyntheticLlamaShape {
  /** Tensor layout and metadata prefix (default "llama"). */
  architecture?: SyntheticArchitecture;
  /** Rotated dims per head (default head_dim; Phi-style partial rotary when smaller). */
  ropeDim?: number;
  ropeScaling?: SyntheticRopeScaling;
  /** attention.sliding_window (Mistral, Gemma). */
  slidingWindow?: number;
  /** Model width (embedding length). */
  dim: number;
  layers: number;
  heads: number;
  kvHeads: number;
  /** Hidden size of the SwiGLU feed-forward. */
  ffn: number;
  vocab: number;
  contextLength: number;
  ropeBase?: number;
  rmsEps?: number;
  /** No output.weight: the head reuses token_embd (default false). */
  tiedOutput?: boolean;
}

export interface SyntheticLlamaOptions {
  seed: number;
  /** Type of the 2-D matrices (norms are always F32). */
  weightType: GgmlType;
  /** Type of token_embd (default: weightType). */
  embeddingType?: GgmlType;
  /** Type of output.weight (default: weightType). */
  outputType?: GgmlType;
  /** Target standard deviation of the logits (default 4). */
  logitStd?: number;
  /**
   * Strength of a built-in bigram, in logit standard deviations (default 6; ignored with a tied output).
   * The head row of token π(t) (π a seeded permutation, see bigramSuccessors) leans toward token t's
   * embedding, so after token t the model usually predicts π(t) by a clear margin, the way trained models
   * are usually confident. 0 gives purely random logits, whose top-1 is a near-tie often enough (~1.5% of
   * positions) that llama.cpp's Q8 rounding of activations for Q8_0/Q4_0 weights flips it.
   */
  confidence?: number;
  /** general.name (default "synthetic-<architecture>"). */
  name?: string;
  /** tokenizer.chat_template: a ChatML template, with <|im_start|> and <|im_end|> as control tokens. */
  chatml?: boolean;
}

/** The ChatML template (Qwen's, without tools) that `chatml: true` writes. */
export const SYNTHETIC_CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export interface SyntheticLlama {
  metadata: Record<string, GgufWriteValue>;
  tensors: GgufWriteTensor[];
}

// llama.cpp's token types (llama_token_type)
export const TOKEN_TYPE_NORMAL = 1;
export const TOKEN_TYPE_UNKNOWN = 2;
export const TOKEN_TYPE_CONTROL = 3;
export const TOKEN_TYPE_BYTE = 6;

export const SYNTHETIC_UNK_ID = 0;
export const SYNTHETIC_BOS_ID = 1;
export const SYNTHETIC_EOS_ID = 2;

/** Specials and byte tokens come first; a vocabulary needs room for some pieces after them. */
export const SYNTHETIC_MIN_VOCAB = 300;

// llama.cpp's llama_ftype for a model whose matrices are all of one type
const FILE_TYPE: Partial<Record<GgmlType, number>> = {
  [GgmlType.F32]: 0,
  [GgmlType.F16]: 1,
  [GgmlType.Q4_0]: 2,
  [GgmlType.Q8_0]: 7,
  [GgmlType.BF16]: 32,
};

export interface SyntheticVocab {
  tokens: string[];
  scores: Float32Array;
  types: Int32Array;
}

/**
 * A SentencePiece-style vocabulary of `size` tokens:
 *   0 <unk> · 1 <s> · 2 </s> · 3..258 <0x00>..<0xFF> · then pieces over a..z, shortest first,
 *   each word twice: "▁word" (word start) and "word", with scores falling by one per piece.
 */
export function syntheticVocab(size: number): SyntheticVocab {
  if (!Number.isInteger(size) || size < SYNTHETIC_MIN_VOCAB) {
    throw new Error(`synthetic vocabulary needs at least ${SYNTHETIC_MIN_VOCAB} tokens, got ${size}`);
  }
  const tokens: string[] = ["<unk>", "<s>", "</s>"];
  const types: number[] = [TOKEN_TYPE_UNKNOWN, TOKEN_TYPE_CONTROL, TOKEN_TYPE_CONTROL];
  for (let byte = 0; byte < 256; byte++) {
    tokens.push(`<0x${byte.toString(16).toUpperCase().padStart(2, "0")}>`);
    types.push(TOKEN_TYPE_BYTE);
  }
  const firstPiece = tokens.length;
  const letters = "abcdefghijklmnopqrstuvwxyz";
  // words of length 1, 2, 3, … in lexicographic order: the word with index k of length L spells k in base 26
  for (let length = 1; tokens.length < size; length++) {
    const wordsOfLength = 26 ** length;
    for (let k = 0; k < wordsOfLength && tokens.length < size; k++) {
      let word = "";
      for (let rest = k, i = 0; i < length; i++, rest = Math.floor(rest / 26)) word = letters[rest % 26] + word;
      tokens.push("\u2581" + word);
      types.push(TOKEN_TYPE_NORMAL);
      if (tokens.length < size) {
        tokens.push(word);
        types.push(TOKEN_TYPE_NORMAL);
      }
    }
  }
  const scores = new Float32Array(size);
  for (let id = firstPiece; id < size; id++) scores[id] = -(id - firstPiece);
  return { tokens, scores, types: Int32Array.from(types) };
}

function checkShape(shape: SyntheticLlamaShape, options: SyntheticLlamaOptions): void {
  const { dim, layers, heads, kvHeads, ffn, vocab, contextLength } = shape;
  for (const [name, value] of Object.entries({ dim, layers, heads, kvHeads, ffn, vocab, contextLength })) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`synthetic llama: ${name} must be a positive integer, got ${value}`);
  }
  if (dim % heads !== 0) throw new Error(`synthetic llama: dim ${dim} is not divisible by heads ${heads}`);
  if ((dim / heads) % 2 !== 0) throw new Error(`synthetic llama: head_dim ${dim / heads} must be even for RoPE`);
  if (heads % kvHeads !== 0) throw new Error(`synthetic llama: heads ${heads} is not a multiple of kvHeads ${kvHeads}`);
  // every matrix has rows of dim, except ffn_down whose rows are ffn long; embedding and head rows are dim
  const rowLengths: [GgmlType, number][] = [
    [options.weightType, dim],
    [options.weightType, ffn],
    [options.embeddingType ?? options.weightType, dim],
    [options.outputType ?? options.weightType, dim],
  ];
  for (const [type, rowLength] of rowLengths) {
    const block = GGML_TYPE_LAYOUT[type].blockElements;
    if (rowLength % block !== 0) {
      throw new Error(`synthetic llama: rows of ${rowLength} do not divide into ${ggmlTypeName(type)} blocks of ${block}`);
    }
  }
}

/**
 * Per-pair RoPE divisors as GGUF stores them: Llama 3's rope_freqs.weight computed from its scaling rule
 * (as the converter does), or Phi-3's rope_factors_short/long (seeded, in [1, 4)).
 */
function ropeFactorTensors(scaling: SyntheticRopeScaling | undefined, ropeDim: number, ropeBase: number): GgufWriteTensor[] {
  const pairs = ropeDim / 2;
  if (scaling?.type === "llama3") {
    const { factor, lowFreqFactor, highFreqFactor, originalContext } = scaling;
    const lowWavelength = originalContext / lowFreqFactor;
    const highWavelength = originalContext / highFreqFactor;
    const factors = new Float32Array(pairs);
    for (let i = 0; i < pairs; i++) {
      const wavelength = (2 * Math.PI) / Math.pow(ropeBase, (2 * i) / ropeDim);
      if (wavelength < highWavelength) factors[i] = 1;
      else if (wavelength > lowWavelength) factors[i] = factor;
      else {
        const smooth = (originalContext / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        factors[i] = 1 / ((1 - smooth) / factor + smooth);
      }
    }
    return [{ name: "rope_freqs.weight", dims: [pairs], type: GgmlType.F32, values: () => factors }];
  }
  if (scaling?.type === "longrope") {
    const factors = (name: string) => () => Float32Array.from(Random.forKey(pairs, name).normals(pairs), (v) => 1 + 1.5 * Math.abs(v));
    return [
      { name: "rope_factors_long.weight", dims: [pairs], type: GgmlType.F32, values: factors("long") },
      { name: "rope_factors_short.weight", dims: [pairs], type: GgmlType.F32, values: factors("short") },
    ];
  }
  return [];
}

/** The bigram of a synthetic model: next[t] = π(t), a seeded random permutation of the vocabulary. */
export function bigramSuccessors(vocab: number, seed: number): Int32Array {
  const random = Random.forKey(seed, "bigram");
  const next = Int32Array.from({ length: vocab }, (_, i) => i);
  for (let i = vocab - 1; i > 0; i--) {
    const j = random.nextInt(i + 1);
    const swap = next[i]!;
    next[i] = next[j]!;
    next[j] = swap;
  }
  return next;
}

/** Metadata and lazily generated tensors of a random Llama of the given shape. */
export function syntheticLlama(shape: SyntheticLlamaShape, options: SyntheticLlamaOptions): SyntheticLlama {
  checkShape(shape, options);
  const { dim, layers, heads, kvHeads, ffn, vocab, contextLength } = shape;
  const headDim = dim / heads;
  const ropeBase = shape.ropeBase ?? 10000;
  const rmsEps = shape.rmsEps ?? 1e-5;
  const arch = shape.architecture ?? "llama";
  const isGemma = arch === "gemma2" || arch === "gemma3";
  // Gemma's head is always the embedding (llama.cpp reads no output.weight for it).
  const tiedOutput = isGemma || (shape.tiedOutput ?? false);
  const ropeDim = shape.ropeDim ?? headDim;
  const logitStd = options.logitStd ?? 4;
  const confidence = options.confidence ?? 6;
  const seed = options.seed;
  const embeddingType = options.embeddingType ?? options.weightType;
  const outputType = options.outputType ?? options.weightType;
  const vocabulary = syntheticVocab(vocab);
  if (options.chatml) {
    vocabulary.tokens.splice(vocab - 4, 2, "<|im_start|>", "<|im_end|>");
    vocabulary.types.set([TOKEN_TYPE_CONTROL, TOKEN_TYPE_CONTROL], vocab - 4);
  }
  if (arch === "phi3") {
    // llama.cpp's Phi-3 vocabulary looks up <|endoftext|> by text; <|end|> ends its chat turns.
    vocabulary.tokens.splice(vocab - 2, 2, "<|end|>", "<|endoftext|>");
    vocabulary.types.set([TOKEN_TYPE_CONTROL, TOKEN_TYPE_CONTROL], vocab - 2);
  }

  const metadata: Record<string, GgufWriteValue> = {
    "general.architecture": meta.str(arch),
    "general.name": meta.str(options.name ?? `synthetic-${arch}`),
    [`${arch}.context_length`]: meta.u32(contextLength),
    [`${arch}.embedding_length`]: meta.u32(dim),
    [`${arch}.block_count`]: meta.u32(layers),
    [`${arch}.feed_forward_length`]: meta.u32(ffn),
    [`${arch}.attention.head_count`]: meta.u32(heads),
    [`${arch}.attention.head_count_kv`]: meta.u32(kvHeads),
    [`${arch}.rope.dimension_count`]: meta.u32(ropeDim),
    [`${arch}.rope.freq_base`]: meta.f32(ropeBase),
    [`${arch}.attention.layer_norm_rms_epsilon`]: meta.f32(rmsEps),
    [`${arch}.vocab_size`]: meta.u32(vocab),
    "tokenizer.ggml.model": meta.str("llama"),
    "tokenizer.ggml.tokens": meta.strs(vocabulary.tokens),
    "tokenizer.ggml.scores": meta.f32s(vocabulary.scores),
    "tokenizer.ggml.token_type": meta.i32s(vocabulary.types),
    "tokenizer.ggml.unknown_token_id": meta.u32(SYNTHETIC_UNK_ID),
    "tokenizer.ggml.bos_token_id": meta.u32(SYNTHETIC_BOS_ID),
    "tokenizer.ggml.eos_token_id": meta.u32(SYNTHETIC_EOS_ID),
    "tokenizer.ggml.add_bos_token": meta.bool(true),
    "tokenizer.ggml.add_eos_token": meta.bool(false),
  };
  const fileType = FILE_TYPE[options.weightType];
  if (fileType !== undefined) metadata["general.file_type"] = meta.u32(fileType);
  if (options.chatml) metadata["tokenizer.chat_template"] = meta.str(SYNTHETIC_CHATML_TEMPLATE);
  if (shape.slidingWindow !== undefined) metadata[`${arch}.attention.sliding_window`] = meta.u32(shape.slidingWindow);
  if (arch === "gemma2") {
    metadata["gemma2.attn_logit_softcapping"] = meta.f32(50);
    metadata["gemma2.final_logit_softcapping"] = meta.f32(30);
  }
  const scaling = shape.ropeScaling;
  if (scaling?.type === "linear" || scaling?.type === "yarn") {
    metadata[`${arch}.rope.scaling.type`] = meta.str(scaling.type);
    metadata[`${arch}.rope.scaling.factor`] = meta.f32(scaling.factor);
  }
  if (scaling?.type === "yarn" || scaling?.type === "longrope") {
    metadata[`${arch}.rope.scaling.original_context_length`] = meta.u32(scaling.originalContext);
  }
  if (scaling?.type === "longrope") metadata[`${arch}.rope.scaling.attn_factor`] = meta.f32(scaling.attnFactor);

  // dims in ggml order: [row length = inputs, rows = outputs]
  const count = (dims: number[]) => dims.reduce((a, b) => a * b, 1);
  const normal = (name: string, dims: number[], type: GgmlType, std: number, mean = 0): GgufWriteTensor => ({
    name,
    dims,
    type,
    values: () => Random.forKey(seed, name).normals(count(dims), std, mean),
  });
  const matrix = (name: string, inputs: number, outputs: number, scale = 1): GgufWriteTensor =>
    normal(name, [inputs, outputs], options.weightType, scale / Math.sqrt(inputs));
  const residualScale = 1 / Math.sqrt(2 * layers);
  const norm = (name: string, length = dim): GgufWriteTensor => normal(name, [length], GgmlType.F32, 0.1, 1);
  const vector = (name: string, length: number, std: number): GgufWriteTensor => normal(name, [length], GgmlType.F32, std);

  const headStd = logitStd / Math.sqrt(dim);
  const embeddingStd = tiedOutput ? headStd : 1;
  const embedding = (): Float32Array => Random.forKey(seed, "token_embd.weight").normals(dim * vocab, embeddingStd);
  const tensors: GgufWriteTensor[] = [
    { name: "token_embd.weight", dims: [dim, vocab], type: embeddingType, values: embedding },
    norm("output_norm.weight"),
  ];
  if (!tiedOutput) {
    tensors.push({
      name: "output.weight",
      dims: [dim, vocab],
      type: outputType,
      values: () => {
        // head: [vocab rows × dim]
        const head = Random.forKey(seed, "output.weight").normals(dim * vocab, headStd);
        if (confidence === 0) return head;
        // the bigram: row π(t) += k · embedding(t), with k such that for h = rmsnorm(embedding(t))
        // (|h|² ≈ dim) the added logit is confidence · logitStd
        const next = bigramSuccessors(vocab, seed);
        const tokenEmbedding = embedding();
        const k = (confidence * headStd) / Math.sqrt(dim);
        for (let t = 0; t < vocab; t++) {
          const row = next[t]! * dim;
          for (let i = 0; i < dim; i++) head[row + i]! += k * tokenEmbedding[t * dim + i]!;
        }
        return head;
      },
    });
  }
  tensors.push(...ropeFactorTensors(scaling, ropeDim, ropeBase));
  const qDim = heads * headDim;
  const kvDim = kvHeads * headDim;
  for (let layer = 0; layer < layers; layer++) {
    const blk = `blk.${layer}`;
    tensors.push(norm(`${blk}.attn_norm.weight`));
    if (arch === "phi3") {
      tensors.push(matrix(`${blk}.attn_qkv.weight`, dim, qDim + 2 * kvDim));
    } else {
      tensors.push(
        matrix(`${blk}.attn_q.weight`, dim, qDim),
        matrix(`${blk}.attn_k.weight`, dim, kvDim),
        matrix(`${blk}.attn_v.weight`, dim, kvDim),
      );
    }
    if (arch === "qwen2") {
      tensors.push(vector(`${blk}.attn_q.bias`, qDim, 0.5), vector(`${blk}.attn_k.bias`, kvDim, 0.5), vector(`${blk}.attn_v.bias`, kvDim, 0.5));
    }
    if (arch === "qwen3" || arch === "gemma3") tensors.push(norm(`${blk}.attn_q_norm.weight`, headDim), norm(`${blk}.attn_k_norm.weight`, headDim));
    tensors.push(matrix(`${blk}.attn_output.weight`, qDim, dim, residualScale));
    if (isGemma) tensors.push(norm(`${blk}.post_attention_norm.weight`));
    tensors.push(norm(`${blk}.ffn_norm.weight`));
    if (arch === "phi3") {
      tensors.push(matrix(`${blk}.ffn_up.weight`, dim, 2 * ffn));
    } else {
      tensors.push(matrix(`${blk}.ffn_gate.weight`, dim, ffn), matrix(`${blk}.ffn_up.weight`, dim, ffn));
    }
    tensors.push(matrix(`${blk}.ffn_down.weight`, ffn, dim, residualScale));
    if (isGemma) tensors.push(norm(`${blk}.post_ffw_norm.weight`));
  }
  return { metadata, tensors };
}
