// What makes one transformer architecture differ from another, as data. The forward pass
// (src/model/forward.ts) is assembled from such a description over the shared kernels; a new
// architecture is one file in src/model/architectures/ that exports one `ArchitectureDescription`.
//
// Every description runs the same skeleton, per layer l, for the step's tokens x: [n, dim]
//   h = norm(x)·attn_norm
//   q, k, v = Wq·h (+bq), Wk·h (+bk), Wv·h (+bv)          (or one fused Wqkv, split at upload)
//   q, k = headnorm(q)·q_norm, headnorm(k)·k_norm          (qkNorm)
//   q, k = rope(q, k)                                      (normal or NeoX pairs, per-layer base)
//   a = Wo · attention(q·scale, cache ∪ {k, v})            (softcap, sliding window per layer)
//   x += postNorm ? norm(a)·attn_post_norm : a
//   h = norm(x)·ffn_norm
//   f = Wdown · act(Wgate·h) ⊙ (Wup·h)                     (silu or gelu-tanh; gate/up maybe fused)
//   x += postNorm ? norm(f)·ffn_post_norm : f
// then logits = Wout · norm(x)·output_norm, softcapped if the model says so; x starts as the token's
// embedding, times √dim for Gemma.

export type RopeStyle = "normal" | "neox";
export type GatedActivation = "silu" | "gelu_tanh";

/** Numbers the description reads from metadata but which depend on the model (e.g. Gemma's 27B scale). */
export interface ArchitectureShape {
  dim: number;
  layers: number;
  qHeads: number;
  headDim: number;
}

export interface ArchitectureDescription {
  /** general.architecture values this description runs (llama.cpp's names). */
  names: readonly string[];
  /** RoPE pairs: adjacent (2i, 2i+1) ("normal", ggml mode 0) or split halves (i, i + d/2) ("neox"). */
  rope: RopeStyle;
  /** Activation of the gated feed-forward. */
  activation: GatedActivation;
  /** attn_qkv holds Wq, Wk, Wv stacked (Phi-3); otherwise attn_q, attn_k, attn_v. */
  fusedQkv: boolean;
  /** ffn_up holds Wgate then Wup stacked and there is no ffn_gate (Phi-3). */
  fusedGateUp: boolean;
  /** Per-head RMSNorm of q and k before RoPE (attn_q_norm, attn_k_norm: [head_dim]). */
  qkNorm: boolean;
  /** RMSNorm of the attention and FFN outputs before the residual add (attn_post_norm, ffn_post_norm). */
  postNorms: boolean;
  /** Projection biases per layer (tensor suffixes such as "attn_q.bias"): required, or allowed. */
  biases: { required: readonly string[]; optional: readonly string[] };
  /** Multiply the embedding by √dim (Gemma). */
  scaleEmbedding: boolean;
  /** Soft-capping keys this architecture reads, with llama.cpp's defaults when absent (0 = off). */
  softcap?: { attention: number; final: number };
  /** Query scale; default 1/√head_dim. */
  attentionScale?: (shape: ArchitectureShape) => number;
  /**
   * Which layers use the sliding window when the model has one (attention.sliding_window). Default: all
   * layers (Mistral). Gemma interleaves local and global layers. `ignoreWindow`: the key is read but not
   * used, as llama.cpp does for Phi-3.
   */
  slidingWindowLayer?: (layer: number) => boolean;
  ignoreWindow?: boolean;
  /** RoPE base (and scale 1) of sliding-window layers, when it differs from the global one (Gemma 3). */
  localRopeBase?: number;
  /** Per-dimension RoPE divisors: Llama 3's rope_freqs, or Phi-3's rope_factors_short/long (LongRoPE). */
  ropeFactors: "none" | "rope_freqs" | "short_long";
}

/** Registry of every description under architectures/, by general.architecture name. */
const modules = import.meta.glob<{ default: ArchitectureDescription }>("./architectures/*.ts", { eager: true });

export const ARCHITECTURES: ReadonlyMap<string, ArchitectureDescription> = new Map(
  Object.values(modules).flatMap((module) => module.default.names.map((name) => [name, module.default] as const)),
);

export function supportedArchitectures(): string[] {
  return [...ARCHITECTURES.keys()].sort();
}
