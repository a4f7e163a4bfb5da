// What the analytical estimator (src/estimator, pure) predicts for a loaded model: its shapes from the GGUF
// header, the settings the runtime chose, and the last run's prompt and generated lengths.

import { fromGgufMetadata, webkvRunMemory, type WebkvMemory } from "../estimator/index.js";
import type { GpuLimits } from "../gpu/device.js";
import type { GgufHeader } from "../gguf/types.js";
import { GgmlType } from "../gguf/types.js";
import type { TransformerModel } from "../model/forward.js";

export type PredictedMemory = Omit<WebkvMemory, "formulas" | "kv_bytes_per_token_per_layer">;

export function predictMemory(header: GgufHeader, model: TransformerModel, limits: GpuLimits, run: { promptTokens: number; generatedTokens: number }): PredictedMemory {
  const tensors = header.tensors.map((t) => ({ name: t.name, dims: t.dims, type: GgmlType[t.type] ?? t.type }));
  const description = fromGgufMetadata(header.metadata, tensors);
  const pool = model.kvPool;
  const { formulas: _formulas, kv_bytes_per_token_per_layer: _perToken, ...bytes } = webkvRunMemory(description, {
    blockSize: pool.settings.blockSize,
    kvBlocks: pool.settings.numBlocks,
    k: pool.settings.format.k,
    v: pool.settings.format.v,
    maxSeqs: model.step.capacity.maxSeqs,
    maxStepTokens: model.maxStepTokens,
    attention: model.attention,
    promptTokens: Math.max(1, run.promptTokens),
    generatedTokens: run.generatedTokens,
    maxBindingBytes: limits.maxStorageBufferBindingSize,
    maxBufferSize: limits.maxBufferSize,
    offsetAlignment: limits.minStorageBufferOffsetAlignment,
    weightChunkBytes: model.weightChunkBytes,
    decodeMaxChunks: model.tuning.decodeMaxChunks,
    chainDepth: model.chainDepth,
    int8Activations: model.int8Activations,
    fuseQkv: model.tuning.fuseQkv,
    fuseGateUp: model.fusedGateUp,
    ropeDim: model.config.ropeDim,
    contextSize: model.config.contextLength,
  });
  return bytes;
}
