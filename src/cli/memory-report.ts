// The memory report of a run, three ways: measured (webkv's allocator, live and peak per category),
// predicted (the analytical estimator, from the GGUF's shapes and the run's settings — src/estimator/webkv.ts)
// and observed (the GPU process's resident memory, from outside; null where it cannot be read).

import type { LoadResult } from "../app/runtime.js";
import { fromGgufMetadata, webkvRunMemory, type WebkvMemory } from "../estimator/index.js";
import { fileSource } from "../gguf/node-source.js";
import { readGgufHeader } from "../gguf/reader.js";
import { GgmlType } from "../gguf/types.js";
import { MEMORY_CATEGORIES, type MemorySnapshot } from "../gpu/memory.js";
import type { ObservedMemory } from "../harness/process-memory.js";
import { parseKvSection } from "../kv/formats.js";

export type PredictedMemory = Omit<WebkvMemory, "formulas" | "kv_bytes_per_token_per_layer">;

export interface MemoryReport {
  measured: MemorySnapshot;
  predicted: PredictedMemory;
  /** (predicted − measured peak) / measured peak, per category and total. */
  relative_error: Record<string, number | null>;
  /**
   * The GPU process's growth from before the load: at its peak (loading included — on SwiftShader shader
   * compilation briefly holds hundreds of MiB) and at the end of the run (what stays resident).
   */
  observed: {
    total: number;
    relative_error: number;
    at_end: number;
    at_end_relative_error: number;
    rss_before: number;
    rss_peak: number;
    rss_end: number;
    source: string;
  } | null;
  /** Why `observed` is null. */
  observed_note?: string;
  formulas: string[];
}

/** What the estimator predicts for a run on a loaded model (settings from the load; nothing measured). */
export async function predictRun(modelPath: string, loaded: LoadResult, run: { promptTokens: number; generatedTokens: number }): Promise<WebkvMemory> {
  const source = await fileSource(modelPath);
  try {
    const header = await readGgufHeader(source);
    const tensors = header.tensors.map((t) => ({ name: t.name, dims: t.dims, type: GgmlType[t.type] ?? t.type }));
    const model = fromGgufMetadata(header.metadata, tensors);
    return webkvRunMemory(model, {
      blockSize: loaded.kv.block_size,
      kvBlocks: loaded.kv.blocks_total,
      k: parseKvSection(loaded.kv.format.k, "k"),
      v: parseKvSection(loaded.kv.format.v, "v"),
      maxSeqs: loaded.plan.max_seqs,
      maxStepTokens: loaded.plan.max_step_tokens,
      attention: loaded.plan.attention,
      promptTokens: run.promptTokens,
      generatedTokens: run.generatedTokens,
      maxBindingBytes: loaded.adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: loaded.adapter.limits.maxBufferSize,
      offsetAlignment: loaded.adapter.limits.minStorageBufferOffsetAlignment,
      weightChunkBytes: loaded.plan.weight_chunk_bytes,
      decodeMaxChunks: loaded.plan.decode_max_chunks,
      chainDepth: loaded.plan.chain_depth,
      int8Activations: loaded.plan.int8_activations,
      fuseQkv: loaded.plan.fuse_qkv,
      fuseGateUp: loaded.plan.fuse_gate_up,
      ropeDim: loaded.config.ropeDim,
      contextSize: loaded.config.contextLength,
    });
  } finally {
    await source.close?.();
  }
}

export function memoryReport(
  measured: MemorySnapshot,
  predicted: WebkvMemory,
  observed: ObservedMemory | { unavailable: string },
): MemoryReport {
  const { formulas, kv_bytes_per_token_per_layer: _perToken, ...bytes } = predicted;
  const relative_error: Record<string, number | null> = {};
  for (const category of [...MEMORY_CATEGORIES, "total"] as const) {
    const actual = measured[category].peak;
    relative_error[category] = actual > 0 ? (bytes[category] - actual) / actual : bytes[category] === 0 ? 0 : null;
  }
  const report: MemoryReport = { measured, predicted: bytes, relative_error, observed: null, formulas };
  if ("unavailable" in observed) {
    report.observed_note = observed.unavailable;
  } else {
    const errorOf = (bytes: number) => (bytes - measured.total.peak) / measured.total.peak;
    report.observed = {
      total: observed.gpuProcessDelta,
      relative_error: errorOf(observed.gpuProcessDelta),
      at_end: observed.gpuProcessDeltaAtEnd,
      at_end_relative_error: errorOf(observed.gpuProcessDeltaAtEnd),
      rss_before: observed.before.rssBytes,
      rss_peak: observed.peakRssBytes,
      rss_end: observed.endRssBytes,
      source: observed.source,
    };
  }
  return report;
}
