// What the estimator knows about a model: the shapes that decide its memory, nothing else.
// A description comes from a preset, a Hugging Face config.json (parse-hf.ts) or GGUF metadata
// (parse-gguf.ts). Every count is per model (not per GPU); tensor parallelism is applied later.

import { EstimatorError, requireInteger } from "./errors.js";

/** Multi-head latent attention (DeepSeek-V2/V3, Kimi K2). The cache holds, per token per layer,
 *  one compressed latent c_kv (kvLoraRank values) and one shared RoPE key (qkRopeHeadDim values). */
export interface MlaSpec {
  kvLoraRank: number;
  qkRopeHeadDim: number;
  /** Per-head query/key width without RoPE; a head's query is qkNopeHeadDim + qkRopeHeadDim wide. */
  qkNopeHeadDim: number;
  /** Per-head value width. */
  vHeadDim: number;
  /** Rank of the query compression; 0 when queries are projected directly from the hidden state. */
  qLoraRank: number;
}

/** Mixture of experts. Every expert is resident; a token uses expertsPerToken of them. */
export interface MoeSpec {
  experts: number;
  expertsPerToken: number;
  /** Intermediate width of one routed expert (SwiGLU: gate, up, down). */
  expertFfnSize: number;
  /** Total intermediate width of the always-on shared expert(s) (0: none). DeepSeek: n_shared × expertFfnSize. */
  sharedFfnSize: number;
  /** The first this-many layers use the dense FFN (ffnSize) instead of experts (DeepSeek first_k_dense_replace). */
  denseLayersFirst: number;
  /** A learned per-expert routing bias (DeepSeek-V3 e_score_correction_bias). */
  routerBias: boolean;
}

/** Sliding-window attention: local layers keep only the last `size` tokens. */
export interface SlidingWindowSpec {
  size: number;
  /** localLayers[i] is true when layer i attends within the window (false: global, full context). */
  localLayers: boolean[];
}

/** A tensor as a GGUF header lists it. dims in ggml order (dims[0] is the row length);
 *  type is a ggml type id (number) or its name ("Q4_K"). */
export interface TensorInfo {
  name: string;
  dims: number[];
  type: number | string;
  /** Byte offset of the tensor's data from the start of the GGUF data section, when read from a file. */
  offset?: number;
}

export interface ModelDescription {
  name: string;
  /** Family as the source calls it: "llama", "qwen2", "deepseek_v3", ... */
  architecture: string;
  /** Where the numbers come from (a URL or a file), and what was assumed. */
  source?: string;
  notes?: string[];

  layers: number;
  hiddenSize: number;
  /** Query heads. */
  heads: number;
  /** Key/value heads: = heads (MHA), 1 (MQA), between (GQA). Ignored for MLA. */
  kvHeads: number;
  /** Width of one query/key head (hidden / heads unless the config says otherwise). */
  headDim: number;
  /** Width of one value head; defaults to headDim. */
  vHeadDim?: number;
  /** Dense FFN intermediate width. */
  ffnSize: number;
  /** Gated FFN (SwiGLU/GeGLU: gate, up, down = 3 matrices) or plain (up, down = 2). Default true. */
  ffnGated?: boolean;
  vocabSize: number;
  /** The output head reuses the token embedding matrix. */
  tiedEmbeddings: boolean;
  /** The context the model was trained for (max_position_embeddings / context_length). */
  contextLength: number;

  /** Biases on the q, k, v projections (Qwen2). */
  qkvBias?: boolean;
  /** Per-head RMSNorm on q and k (Qwen3, Gemma-3). */
  qkNorm?: boolean;
  /** Norm vectors per layer (2 for pre-attention + pre-FFN; Gemma-2/3 have 4). Default 2. */
  normsPerLayer?: number;
  /** LayerNorm has a bias vector beside the weight; RMSNorm has only the weight. Default "rms". */
  normKind?: "rms" | "layer";

  mla?: MlaSpec;
  slidingWindow?: SlidingWindowSpec;
  /** Cross-layer KV sharing: kvSourceLayer[i] is the layer whose cache layer i reads (i itself: its own).
   *  A layer that reads another layer's cache stores none. */
  kvSourceLayer?: number[];
  moe?: MoeSpec;
  /** Multi-token-prediction layers shipped beside the model (DeepSeek-V3 num_nextn_predict_layers).
   *  Not loaded for ordinary decoding, so not counted; reported in notes. */
  mtpLayers?: number;

  /** The tensors of a GGUF file, when known: weights are then summed per tensor type. */
  tensors?: TensorInfo[];
}

export type AttentionKind = "MHA" | "GQA" | "MQA" | "MLA";

/** MHA, GQA and MQA differ only in how many KV heads serve the query heads. */
export function attentionKind(model: ModelDescription): AttentionKind {
  if (model.mla) return "MLA";
  if (model.kvHeads === model.heads) return "MHA";
  if (model.kvHeads === 1) return "MQA";
  return "GQA";
}

export function valueHeadDim(model: ModelDescription): number {
  return model.mla ? model.mla.vHeadDim : (model.vHeadDim ?? model.headDim);
}

/** Per-head query/key width: MLA's is nope + rope. */
export function queryHeadDim(model: ModelDescription): number {
  return model.mla ? model.mla.qkNopeHeadDim + model.mla.qkRopeHeadDim : model.headDim;
}

/** Throws an EstimatorError naming the first field that makes the description impossible. */
export function validateModel(model: ModelDescription): void {
  const where = `model "${model.name}"`;
  requireInteger(`${where}: layers`, model.layers, 1);
  requireInteger(`${where}: hiddenSize`, model.hiddenSize, 1);
  requireInteger(`${where}: heads`, model.heads, 1);
  requireInteger(`${where}: headDim`, model.headDim, 1);
  requireInteger(`${where}: ffnSize`, model.ffnSize, 0);
  requireInteger(`${where}: vocabSize`, model.vocabSize, 1);
  requireInteger(`${where}: contextLength`, model.contextLength, 1);
  if (!model.mla) {
    requireInteger(`${where}: kvHeads`, model.kvHeads, 1);
    if (model.heads % model.kvHeads !== 0) {
      throw new EstimatorError(`${where}: ${model.heads} query heads cannot be grouped over ${model.kvHeads} KV heads`);
    }
  } else {
    requireInteger(`${where}: mla.kvLoraRank`, model.mla.kvLoraRank, 1);
    requireInteger(`${where}: mla.qkRopeHeadDim`, model.mla.qkRopeHeadDim, 0);
    requireInteger(`${where}: mla.qkNopeHeadDim`, model.mla.qkNopeHeadDim, 0);
    requireInteger(`${where}: mla.vHeadDim`, model.mla.vHeadDim, 1);
    requireInteger(`${where}: mla.qLoraRank`, model.mla.qLoraRank, 0);
  }
  if (model.moe) {
    const moe = model.moe;
    requireInteger(`${where}: moe.experts`, moe.experts, 1);
    requireInteger(`${where}: moe.expertsPerToken`, moe.expertsPerToken, 1);
    if (moe.expertsPerToken > moe.experts) {
      throw new EstimatorError(`${where}: ${moe.expertsPerToken} experts per token but only ${moe.experts} experts`);
    }
    requireInteger(`${where}: moe.expertFfnSize`, moe.expertFfnSize, 1);
    requireInteger(`${where}: moe.sharedFfnSize`, moe.sharedFfnSize, 0);
    requireInteger(`${where}: moe.denseLayersFirst`, moe.denseLayersFirst, 0);
    if (moe.denseLayersFirst > model.layers) {
      throw new EstimatorError(`${where}: ${moe.denseLayersFirst} leading dense layers but only ${model.layers} layers`);
    }
  }
  if (model.slidingWindow) {
    requireInteger(`${where}: slidingWindow.size`, model.slidingWindow.size, 1);
    if (model.slidingWindow.localLayers.length !== model.layers) {
      throw new EstimatorError(
        `${where}: slidingWindow.localLayers has ${model.slidingWindow.localLayers.length} entries for ${model.layers} layers`,
      );
    }
  }
  if (model.kvSourceLayer) {
    if (model.kvSourceLayer.length !== model.layers) {
      throw new EstimatorError(`${where}: kvSourceLayer has ${model.kvSourceLayer.length} entries for ${model.layers} layers`);
    }
    model.kvSourceLayer.forEach((source, layer) => {
      if (!Number.isInteger(source) || source < 0 || source >= model.layers) {
        throw new EstimatorError(`${where}: layer ${layer} reads the KV of layer ${source}, which does not exist`);
      }
      if (model.kvSourceLayer![source] !== source) {
        throw new EstimatorError(`${where}: layer ${layer} reads the KV of layer ${source}, which stores none itself`);
      }
    });
  }
}
