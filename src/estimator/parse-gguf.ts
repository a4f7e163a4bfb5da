// GGUF metadata (key → value, as a plain object or a Map) and optionally its tensor list → ModelDescription.
// Keys are prefixed by general.architecture (ARCH below):
//   ARCH.block_count                 layers
//   ARCH.embedding_length            hidden size
//   ARCH.attention.head_count        query heads
//   ARCH.attention.head_count_kv     KV heads (default: head_count)
//   ARCH.attention.key_length        head_dim (default hidden / heads); value_length the value width
//   ARCH.feed_forward_length         FFN width
//   ARCH.context_length              trained context
//   ARCH.attention.sliding_window    window (gemma2: alternating layers, gemma3: 5 local : 1 global, else all)
//   ARCH.expert_count, expert_used_count, expert_feed_forward_length, expert_shared_count,
//   ARCH.leading_dense_block_count   MoE
//   ARCH.attention.kv_lora_rank, q_lora_rank, rope.dimension_count, key_length_mla, value_length_mla   MLA
//   vocab = length of tokenizer.ggml.tokens (else ARCH.vocab_size, else the embedding's rows)
// With tensors, the output head is tied exactly when there is no output.weight, and weights are summed
// per tensor in its own type; without tensors a separate output head is assumed (say so in notes).

import { EstimatorError } from "./errors.js";
import { allLocalLayers, alternatingLocalLayers, patternLocalLayers } from "./layers.js";
import type { ModelDescription, TensorInfo } from "./model.js";

export type GgufMetadata = Record<string, unknown> | Map<string, unknown>;

function reader(metadata: GgufMetadata) {
  const get = (key: string): unknown => (metadata instanceof Map ? metadata.get(key) : metadata[key]);
  const number = (key: string): number | undefined => {
    const value = get(key);
    if (value === undefined) return undefined;
    if (typeof value === "number") return value;
    if (typeof value === "bigint") return Number(value);
    // Per-layer arrays (some architectures give head counts per layer): the largest value sizes the buffers.
    if (ArrayBuffer.isView(value) || Array.isArray(value)) {
      const values = Array.from(value as ArrayLike<number | bigint>, Number);
      if (values.length > 0 && values.every(Number.isFinite)) return Math.max(...values);
    }
    throw new EstimatorError(`GGUF metadata "${key}" should be a number, found ${typeof value}`);
  };
  const need = (key: string): number => {
    const value = number(key);
    if (value === undefined) throw new EstimatorError(`GGUF metadata "${key}" is missing`);
    return value;
  };
  return { get, number, need };
}

export function fromGgufMetadata(metadata: GgufMetadata, tensors?: readonly TensorInfo[], name?: string): ModelDescription {
  const m = reader(metadata);
  const arch = m.get("general.architecture");
  if (typeof arch !== "string" || arch === "") throw new EstimatorError(`GGUF metadata "general.architecture" is missing`);
  const key = (suffix: string) => `${arch}.${suffix}`;
  const notes: string[] = [];

  const layers = m.need(key("block_count"));
  const hidden = m.need(key("embedding_length"));
  const heads = m.need(key("attention.head_count"));
  const kvHeads = m.number(key("attention.head_count_kv")) ?? heads;
  const headDim = m.number(key("attention.key_length_mla")) ?? m.number(key("attention.key_length")) ?? hidden / heads;
  const vHeadDim = m.number(key("attention.value_length_mla")) ?? m.number(key("attention.value_length")) ?? headDim;
  const tokens = m.get("tokenizer.ggml.tokens");
  const embedding = tensors?.find((t) => t.name === "token_embd.weight");
  const vocab = Array.isArray(tokens) ? tokens.length : m.number(key("vocab_size")) ?? embedding?.dims[1];
  if (vocab === undefined) throw new EstimatorError(`GGUF: no tokenizer.ggml.tokens, ${key("vocab_size")} or token_embd.weight to read the vocabulary size from`);

  let tied = false;
  if (tensors && tensors.length > 0) {
    tied = !tensors.some((t) => t.name === "output.weight");
  } else {
    notes.push("no tensor list: a separate output head is assumed");
  }
  const rawName = m.get("general.name");
  const model: ModelDescription = {
    name: name ?? (typeof rawName === "string" && rawName ? rawName : arch),
    architecture: arch,
    source: "GGUF metadata",
    notes,
    layers,
    hiddenSize: hidden,
    heads,
    kvHeads,
    headDim,
    vHeadDim,
    ffnSize: m.number(key("feed_forward_length")) ?? 4 * hidden,
    vocabSize: vocab,
    tiedEmbeddings: tied,
    contextLength: m.number(key("context_length")) ?? 2048,
    qkvBias: tensors?.some((t) => t.name === "blk.0.attn_q.bias") ?? false,
    qkNorm: tensors?.some((t) => t.name === "blk.0.attn_q_norm.weight") ?? false,
  };

  const kvLoraRank = m.number(key("attention.kv_lora_rank"));
  if (kvLoraRank !== undefined) {
    const rope = m.need(key("rope.dimension_count"));
    model.mla = { kvLoraRank, qkRopeHeadDim: rope, qkNopeHeadDim: headDim - rope, vHeadDim, qLoraRank: m.number(key("attention.q_lora_rank")) ?? 0 };
    model.kvHeads = heads;
  }

  const experts = m.number(key("expert_count"));
  if (experts) {
    const expertFfn = m.number(key("expert_feed_forward_length")) ?? model.ffnSize;
    model.moe = {
      experts,
      expertsPerToken: m.need(key("expert_used_count")),
      expertFfnSize: expertFfn,
      sharedFfnSize: (m.number(key("expert_shared_count")) ?? 0) * expertFfn,
      denseLayersFirst: m.number(key("leading_dense_block_count")) ?? 0,
      routerBias: tensors?.some((t) => t.name.endsWith("exp_probs_b.bias")) ?? false,
    };
  }
  const mtp = m.number(key("nextn_predict_layers"));
  if (mtp) model.mtpLayers = mtp;

  const window = m.number(key("attention.sliding_window"));
  if (window) {
    const localLayers = arch === "gemma2" ? alternatingLocalLayers(layers)
      : arch.startsWith("gemma3") ? patternLocalLayers(layers, 5)
      : allLocalLayers(layers);
    model.slidingWindow = { size: window, localLayers };
  }
  if (tensors && tensors.length > 0) model.tensors = tensors.map((t) => ({ name: t.name, dims: [...t.dims], type: t.type, ...(t.offset !== undefined ? { offset: t.offset } : {}) }));
  return model;
}
