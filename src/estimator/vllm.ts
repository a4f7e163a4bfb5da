// The vLLM profile: how vLLM (V1 engine, v0.8 … v0.11; files below) sizes its KV cache on each GPU.
//   vllm/v1/worker/gpu_worker.py determine_available_memory:
//       available KV = total GPU memory × gpu_memory_utilization − (weights + peak activations + non-torch memory)
//     measured by a profiling forward pass of max_num_batched_tokens dummy tokens (plus a sampler pass for
//     max_num_seqs sequences). CUDA graphs are captured after the KV cache is allocated and must fit in the
//     (1 − gpu_memory_utilization) headroom.
//   vllm/v1/kv_cache_interface.py FullAttentionSpec.page_size_bytes:
//       page = 2 (K and V) × block_size × KV heads per rank × head_size × dtype bytes   (MLA: 1 × … × latent width)
//     KV heads per rank = K / tp, or 1 when K < tp (vllm/config: get_num_kv_heads; heads replicated).
//   vllm/v1/core/kv_cache_utils.py get_num_blocks:  num_blocks = available // page // layers
//       "GPU KV cache size" = num_blocks × block_size tokens;
//       maximum concurrency at max_model_len = num_blocks / ceil(max_model_len / block_size).
//   kv_cache_dtype "auto" is the model dtype (bf16: 2 bytes); "fp8" (e4m3/e5m2) is 1 byte.
// Weights per rank are webkv's tensor-parallel weights (weights.ts: Megatron sharding, as vLLM's column/row
// parallel layers shard them) plus the rotary embedding's cos/sin cache, max_position × rotary_dim in the model
// dtype (vllm/model_executor/layers/rotary_embedding.py). The activation peak is an estimate (vLLM measures it):
//   T × 2 B × (gate_up 2f/tp + act f/tp + qkv (H + 2K)·d/tp + 2h)  +  max_num_seqs × V × 4 B × 2 (logits, probs)
// with T = max_num_batched_tokens; it gives 1.12 GiB for Llama-3.1-8B at T = 8192 where vLLM logs ~1.19 GiB.
// Pass the figure from your own log (activationBytes) when you have it.

import { EstimatorError, requireInteger } from "./errors.js";
import { valueHeadDim, validateModel, type ModelDescription } from "./model.js";
import type { RuntimeEstimate } from "./runtime-estimate.js";
import { formatBytes, formatCount, GiB } from "./units.js";
import { weightFormat } from "./weight-formats.js";
import { kvHeadsPerGpu, weightBytesFromShapes, weightBytesFromTensors } from "./weights.js";

export const VLLM_KV_DTYPES = { auto: 2, bfloat16: 2, float16: 2, fp8: 1, fp8_e4m3: 1, fp8_e5m2: 1 } as const;
export type VllmKvDtype = keyof typeof VLLM_KV_DTYPES;

export interface VllmSettings {
  /** --max-model-len. */
  maxModelLen: number;
  /** --tensor-parallel-size (default 1). */
  tp?: number;
  /** Memory of one GPU in bytes. */
  gpuMemory: number;
  /** --gpu-memory-utilization (default 0.9). */
  gpuMemoryUtilization?: number;
  /** --kv-cache-dtype (default auto = bf16). */
  kvCacheDtype?: string;
  /** --block-size (default 16). */
  blockSize?: number;
  /** Weight format of the checkpoint (default bf16; a GGUF's own types when it lists tensors). */
  weightFormat?: string;
  /** --max-num-batched-tokens (default 8192, vLLM serve's chunked-prefill budget). */
  maxNumBatchedTokens?: number;
  /** --max-num-seqs (default 256). */
  maxNumSeqs?: number;
  /** Weight bytes per GPU from a vLLM log ("Loading model weights took … GB", GiB), replacing the computed ones. */
  weightsBytes?: number;
  /** Peak activation bytes from a vLLM log, replacing the estimate. */
  activationBytes?: number;
  /** Non-torch memory per GPU (CUDA context, NCCL buffers). Default 0.4 GiB, what vLLM logs for one GPU
   *  (0.20–0.35 GiB in the logs cited in docs/memory.md) rounded up. */
  nonTorchBytes?: number;
  /** CUDA-graph memory subtracted from the KV budget (newer vLLM estimates it before sizing the cache). Default 0:
   *  the graphs are captured after the KV cache, inside the (1 − utilization) headroom. */
  cudaGraphBytes?: number;
  /** Allow max_model_len beyond the trained context (rope scaling / VLLM_ALLOW_LONG_MAX_MODEL_LEN). */
  ropeScaling?: boolean;
}

export interface VllmKvCapacity {
  pageBytesPerLayer: number;
  numBlocks: number;
  tokens: number;
  maxConcurrency: number;
}

/** vLLM's block arithmetic for a given KV budget (one rank). */
export function vllmKvCapacity(model: ModelDescription, s: {
  availableBytes: number; tp: number; blockSize: number; dtypeBytes: number; maxModelLen: number;
}): VllmKvCapacity {
  const layers = model.layers - (model.kvSourceLayer ? model.kvSourceLayer.filter((src, i) => src !== i).length : 0);
  const pageBytesPerLayer = model.mla
    ? s.blockSize * (model.mla.kvLoraRank + model.mla.qkRopeHeadDim) * s.dtypeBytes
    : s.blockSize * kvHeadsPerGpu(model.kvHeads, s.tp) * (model.headDim + valueHeadDim(model)) * s.dtypeBytes;
  const numBlocks = Math.max(0, Math.floor(Math.floor(Math.max(0, s.availableBytes) / pageBytesPerLayer) / layers));
  const tokens = numBlocks * s.blockSize;
  return { pageBytesPerLayer, numBlocks, tokens, maxConcurrency: numBlocks / Math.ceil(s.maxModelLen / s.blockSize) };
}

export function vllmKvDtypeBytes(dtype: string): number {
  const bytes = (VLLM_KV_DTYPES as Record<string, number>)[dtype.toLowerCase()];
  if (bytes === undefined) throw new EstimatorError(`vLLM has no kv_cache_dtype "${dtype}" here (known: ${Object.keys(VLLM_KV_DTYPES).join(", ")})`);
  return bytes;
}

/** Refusals vLLM makes before it loads anything. */
export function checkVllmParallelism(model: ModelDescription, tp: number): void {
  if (model.heads % tp !== 0) {
    throw new EstimatorError(`vLLM needs the ${model.heads} attention heads of ${model.name} divisible by tensor-parallel size ${tp}`);
  }
  if (!model.mla) {
    const K = model.kvHeads;
    if (K >= tp ? K % tp !== 0 : tp % K !== 0) {
      throw new EstimatorError(`vLLM needs tensor-parallel size ${tp} and the ${K} KV heads of ${model.name} to divide one another`);
    }
  }
}

export function estimateVllm(model: ModelDescription, s: VllmSettings): RuntimeEstimate {
  validateModel(model);
  const tp = s.tp ?? 1;
  requireInteger("tensor-parallel size", tp, 1);
  requireInteger("max model len", s.maxModelLen, 1);
  const blockSize = s.blockSize ?? 16;
  requireInteger("block size", blockSize, 1);
  const util = s.gpuMemoryUtilization ?? 0.9;
  if (!(util > 0 && util <= 1)) throw new EstimatorError(`gpu memory utilization must be in (0, 1], got ${util}`);
  if (!(s.gpuMemory > 0)) throw new EstimatorError(`vLLM needs the GPU's memory (--gpu-memory or --gpus)`);
  checkVllmParallelism(model, tp);
  if (s.maxModelLen > model.contextLength && !s.ropeScaling) {
    throw new EstimatorError(
      `max_model_len ${formatCount(s.maxModelLen)} is beyond the ${formatCount(model.contextLength)} tokens ${model.name} was trained for, and no rope scaling is given`,
    );
  }
  const dtype = (s.kvCacheDtype ?? "auto").toLowerCase();
  const dtypeBytes = vllmKvDtypeBytes(dtype);
  const T = s.maxNumBatchedTokens ?? 8192;
  const maxNumSeqs = s.maxNumSeqs ?? 256;
  requireInteger("max num batched tokens", T, 1);
  requireInteger("max num seqs", maxNumSeqs, 1);

  const useFileTypes = s.weightFormat === undefined && model.tensors && model.tensors.length > 0;
  const format = useFileTypes ? undefined : weightFormat(s.weightFormat ?? "bf16");
  const w = format ? weightBytesFromShapes(model, format, tp) : weightBytesFromTensors(model, tp);
  const rotaryDim = model.mla ? model.mla.qkRopeHeadDim : model.headDim;
  const rotaryCache = model.contextLength * rotaryDim * 2;
  const weights = s.weightsBytes ?? w.bytesPerGpu + rotaryCache;

  const f = model.moe ? model.moe.expertFfnSize * model.moe.expertsPerToken : model.ffnSize;
  const qkv = (model.heads + 2 * (model.mla ? 0 : model.kvHeads)) * model.headDim;
  const activationEstimate = T * 2 * (Math.ceil((3 * f) / tp) + Math.ceil(qkv / tp) + 2 * model.hiddenSize) + maxNumSeqs * model.vocabSize * 4 * 2;
  const activations = s.activationBytes ?? activationEstimate;
  const nonTorch = s.nonTorchBytes ?? 0.4 * GiB;
  const budget = s.gpuMemory * util;
  const cudaGraphs = s.cudaGraphBytes ?? 0;
  const available = budget - weights - activations - nonTorch - cudaGraphs;
  const cap = vllmKvCapacity(model, { availableBytes: available, tp, blockSize, dtypeBytes, maxModelLen: s.maxModelLen });
  const kv = cap.numBlocks * cap.pageBytesPerLayer * model.layers;
  const oneRequest = Math.ceil(s.maxModelLen / blockSize) * cap.pageBytesPerLayer * model.layers;
  const fits = cap.tokens >= s.maxModelLen && available > 0;
  const formulas = [
    `vLLM budget per GPU = ${formatBytes(s.gpuMemory)} × gpu_memory_utilization ${util} = ${formatBytes(budget)}`,
    s.weightsBytes !== undefined
      ? `weights per GPU (given) = ${formatBytes(weights)}`
      : `weights per GPU (tp ${tp}${format ? `, ${format.id}` : ", file types"}) = ${formatBytes(w.bytesPerGpu)} + rotary cos/sin cache ` +
        `${formatCount(model.contextLength)} × ${rotaryDim} × 2 B = ${formatBytes(weights)}`,
    s.activationBytes !== undefined
      ? `peak activations (given) = ${formatBytes(activations)}`
      : `peak activations (estimate) = ${T} tokens × 2 B × (3×${f}/${tp} + ${qkv}/${tp} + 2×${model.hiddenSize}) + ${maxNumSeqs} seqs × ${model.vocabSize} × 4 B × 2 = ${formatBytes(activations)}`,
    `non-torch memory = ${formatBytes(nonTorch)}`,
    `available KV = ${formatBytes(budget)} − ${formatBytes(weights)} − ${formatBytes(activations)} − ${formatBytes(nonTorch)}` +
      (cudaGraphs ? ` − CUDA graphs ${formatBytes(cudaGraphs)}` : "") + ` = ${formatBytes(available)}`,
    `page = 2 × block ${blockSize} × ${model.mla ? "latent" : `${kvHeadsPerGpu(model.kvHeads, tp)} KV heads/GPU × ${model.headDim}`} × ${dtypeBytes} B = ` +
      `${formatCount(cap.pageBytesPerLayer)} B per layer; blocks = available // page // ${model.layers} layers = ${formatCount(cap.numBlocks)}`,
    `GPU KV cache size = ${formatCount(cap.numBlocks)} × ${blockSize} = ${formatCount(cap.tokens)} tokens; maximum concurrency at ` +
      `${formatCount(s.maxModelLen)} tokens = ${cap.numBlocks} / ${Math.ceil(s.maxModelLen / blockSize)} = ${cap.maxConcurrency.toFixed(2)}x`,
  ];
  const notes = [
    "vLLM V1: weights, KV and activations per GPU; CUDA graphs are captured after the KV cache inside the (1 − utilization) headroom",
  ];
  if (!fits) {
    notes.push(
      `does not fit: one ${formatCount(s.maxModelLen)}-token request needs ${formatBytes(oneRequest)} of KV per GPU, ` +
        `${formatBytes(Math.max(0, available))} is available (short by ${formatBytes(oneRequest - Math.max(0, available))})`,
    );
  }
  return {
    runtime: "vllm",
    model: model.name,
    settings: {
      max_model_len: s.maxModelLen, tp, gpu_memory: s.gpuMemory, gpu_memory_utilization: util, kv_cache_dtype: dtype,
      block_size: blockSize, max_num_batched_tokens: T, max_num_seqs: maxNumSeqs, weight_format: format?.id ?? "gguf",
    },
    bytes: { weights, kv, activations, non_torch: nonTorch, cuda_graphs: cudaGraphs, total: weights + kv + activations + nonTorch + cudaGraphs, available_kv: available, one_request_kv: oneRequest },
    figures: { num_gpu_blocks: cap.numBlocks, kv_tokens: cap.tokens, max_concurrency: cap.maxConcurrency, fits: fits ? 1 : 0 },
    formulas,
    notes,
  };
}
