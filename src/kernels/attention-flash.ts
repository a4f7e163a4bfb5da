// Wrapper of shaders/attention_flash.wgsl: FlashAttention-2 prefill tiles and split-K decode + merge.
// Tile sizes come from the adapter: the query tile fills a workgroup (Q_TILE × GROUP rows ≤ the invocation
// limit), the key tile is as large as workgroup memory allows for K and V (2 × K_TILE × HEAD_DIM floats).
// The only scratch is the decode partials: sequences × heads × chunks × (HEAD_DIM + 2) floats.

import attentionFlashWgsl from "../../shaders/attention_flash.wgsl?raw";
import attentionFlashGroupedWgsl from "../../shaders/attention_flash_grouped.wgsl?raw";
import type { GpuContext } from "../gpu/device.js";
import { bindGroup, createComputeProgram, layoutEntries } from "../gpu/pipelines.js";
import { ceilDiv, type KernelCall } from "./kernel-call.js";
import { attentionBindings, attentionConstants, kvReadLibrary, type AttentionBuffers, type AttentionShape } from "./kv-shape.js";
import type { KernelTuning } from "./tuning.js";
import { kernelSource, unrollLines } from "./wgsl.js";

/** Most vec4s of query rows (and as many of accumulators) a grouped attention invocation keeps in registers. */
export const GROUPED_MAX_VEC4 = 32;

export interface FlashTiles {
  /** Query tokens per prefill workgroup. */
  qTile: number;
  /** Keys per tile held in workgroup memory. */
  kTile: number;
}

const largestPowerOfTwoAtMost = (value: number) => 2 ** Math.floor(Math.log2(Math.max(1, value)));

export function chooseFlashTiles(gpu: Pick<GpuContext, "limits">, shape: AttentionShape, tuning: KernelTuning): FlashTiles {
  const group = shape.qHeads / shape.kvHeads;
  const maxRows = Math.min(gpu.limits.maxComputeInvocationsPerWorkgroup, gpu.limits.maxComputeWorkgroupSizeX, tuning.flashMaxRows);
  if (group > maxRows) throw new Error(`${group} query heads per KV head exceed the ${maxRows} invocations a workgroup may have`);
  const qTile = Math.max(1, Math.min(tuning.flashQueryTile, largestPowerOfTwoAtMost(Math.floor(maxRows / group))));
  const kTileByMemory = Math.floor(gpu.limits.maxComputeWorkgroupStorageSize / (2 * shape.headDim * 4));
  if (kTileByMemory < 1) throw new Error(`head dimension ${shape.headDim} does not fit workgroup memory`);
  const kTile = Math.min(tuning.flashKeyTile, largestPowerOfTwoAtMost(kTileByMemory));
  return { qTile, kTile };
}

/** Bytes of the decode partials: every sequence × head × chunk slot, whatever the context length. */
export function flashPartialBytes(maxSeqs: number, qHeads: number, headDim: number, tuning: KernelTuning): number {
  return maxSeqs * qHeads * tuning.decodeMaxChunks * (headDim + 2) * 4;
}

export interface FlashAttentionBuffers extends AttentionBuffers {
  partials: GPUBuffer;
}

export async function flashAttentionCalls(
  gpu: GpuContext,
  label: string,
  buffers: FlashAttentionBuffers,
  shape: AttentionShape,
  tuning: KernelTuning,
): Promise<KernelCall[]> {
  const tiles = chooseFlashTiles(gpu, shape, tuning);
  const constants = {
    ...attentionConstants(shape),
    V_NEW_OFFSET: buffers.kvNew.vOffsetBytes / 16,
    Q_TILE: tiles.qTile,
    K_TILE: tiles.kTile,
    SHARED_KV_TILES: tuning.flashSharedTiles,
    DECODE_MIN_CHUNK: tuning.decodeMinChunk,
    DECODE_MAX_CHUNKS: tuning.decodeMaxChunks,
    WORKGROUP_SIZE: tuning.workgroupSize,
    GROUPED_LANES: tuning.groupedLanes,
  };
  const library = kvReadLibrary() + attentionFlashWgsl;
  const code = kernelSource(library, constants);
  // The grouped kernels (tuning.prefillAttention, tuning.decodeAttention) are written out for this head size and
  // run of heads, in a module of their own: the tiled kernels and the merge compile from the same source either way.
  // A run is the largest divisor of the group whose rows (queries and accumulators) stay within GROUPED_MAX_VEC4
  // vec4s; a head larger than that takes the tiled and per-head kernels.
  const group = shape.qHeads / shape.kvHeads;
  const headVec4 = shape.headDim / 4;
  const headsPerInvocation = [...Array(group).keys()].map((i) => group - i).find((n) => group % n === 0 && n * headVec4 <= GROUPED_MAX_VEC4) ?? 0;
  const groupedPrefill = tuning.prefillAttention === "grouped" && headsPerInvocation > 0;
  const groupedDecode = tuning.decodeAttention === "grouped" && headsPerInvocation > 0;
  const groupedCode = groupedPrefill || groupedDecode
    ? kernelSource(library + unrollLines(attentionFlashGroupedWgsl, { g: headsPerInvocation, d: headVec4 }),
      { ...constants, HEADS_PER_INVOCATION: headsPerInvocation })
    : code;
  const runs = shape.qHeads / Math.max(1, headsPerInvocation); // runs of heads (grid y of the grouped kernels)
  const layout = layoutEntries(["uniform", "read", "read", "read", "read", "read", "write", "write", "read"]);
  const tag = `q${tiles.qTile} k${tiles.kTile}${tuning.flashSharedTiles ? " shared" : ""}`;
  const program = (entry: string, grouped: boolean) =>
    createComputeProgram(gpu.device, `attention flash ${entry} ${tag}`, grouped ? groupedCode : code, layout, entry);
  const [prefill, decode, merge] = await Promise.all([
    program(groupedPrefill ? "prefill_grouped_main" : "prefill_main", groupedPrefill),
    program(groupedDecode ? "decode_grouped_main" : "decode_main", groupedDecode),
    program("merge_main", false),
  ]);
  const bound = (program: NonNullable<typeof prefill>) =>
    bindGroup(gpu.device, program, label, attentionBindings(buffers, buffers.partials));
  const wg = tuning.workgroupSize;
  // Multi-token sequences go through the prefill tiles, one-token sequences through split-K decode; a step
  // with both kinds runs both (each kernel skips the other's sequences), a step with one kind skips the other.
  return [
    {
      label: `${label} flash prefill`,
      pipeline: prefill!.pipeline,
      bindGroup: bound(prefill!),
      workgroups: (s) => {
        if (s.maxSeqTokens <= 1) return [0, 0, 0];
        return groupedPrefill ? [ceilDiv(s.numTokens, tuning.groupedLanes), runs, 1] : [ceilDiv(s.maxSeqTokens, tiles.qTile), s.numSeqs, shape.kvHeads];
      },
    },
    {
      label: `${label} flash decode`,
      pipeline: decode!.pipeline,
      bindGroup: bound(decode!),
      workgroups: (s) => {
        if (s.numDecodeSeqs === 0) return [0, 0, 0];
        return groupedDecode ? [ceilDiv(tuning.decodeMaxChunks, tuning.groupedLanes), runs, s.numSeqs] : [ceilDiv(tuning.decodeMaxChunks, wg), shape.qHeads, s.numSeqs];
      },
    },
    {
      label: `${label} flash merge`,
      pipeline: merge!.pipeline,
      bindGroup: bound(merge!),
      workgroups: (s) => (s.numDecodeSeqs > 0 ? [ceilDiv(shape.qHeads * (shape.headDim / 4), wg), s.numSeqs, 1] : [0, 0, 0]),
    },
  ];
}
