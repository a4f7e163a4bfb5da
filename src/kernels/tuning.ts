// Tile and workgroup sizes, chosen from the adapter's limits (never more than it grants) and its kind.
// SwiftShader (Vulkan on the CPU) pays dearly for barriers and likes one output row per invocation;
// real GPUs want wider workgroups. Every kernel wrapper takes its sizes from here.

import type { GpuContext } from "../gpu/device.js";
import { subgroupMatmulUnavailable, type MatmulKernel } from "./matmul.js";

export interface KernelTuning {
  /** Invocations per workgroup for elementwise and row-per-invocation kernels. */
  workgroupSize: number;
  /** Invocations per workgroup for row reductions (RMSNorm, softmax). */
  reduceWorkgroupSize: number;
  /** Tokens per invocation in prefill matmuls (decode uses 1). */
  prefillTokenTile: number;
  /** Flash prefill: most rows (query tokens × heads of a group) per workgroup, query tokens per tile, keys per tile. */
  flashMaxRows: number;
  flashQueryTile: number;
  flashKeyTile: number;
  /** Flash prefill: stage K/V tiles in workgroup memory, or let each row read them itself (no barriers). */
  flashSharedTiles: boolean;
  /** Split-K decode: a sequence of n keys is cut into clamp(⌈n / min chunk⌉, 1, max chunks) chunks. */
  decodeMinChunk: number;
  decodeMaxChunks: number;
  /**
   * Decode attention: "per-head" — an invocation per query head and chunk (GPUs); "grouped" — an invocation per
   * KV head and chunk for all its query heads, each key read once, head dims in registers (SwiftShader:
   * shaders/attention_flash_grouped.wgsl).
   */
  decodeAttention: "per-head" | "grouped";
  /**
   * Prefill attention: "tiled" — FlashAttention-2 tiles of queries and keys (GPUs); "grouped" — an invocation per
   * token and KV head walking every key it sees, no workgroup memory, no barrier (SwiftShader).
   */
  prefillAttention: "tiled" | "grouped";
  /** Invocations per workgroup of the grouped attention kernels. */
  groupedLanes: number;
  /** Lanes of the argmax kernel per logit row (1: a plain scan, no barrier). */
  argmaxWorkgroupSize: number;
  /** Matmul kernel of batched steps (prefill): rows per invocation (SwiftShader), or lanes cooperating on rows (GPUs). */
  matmul: MatmulKernel;
  /** Matmul kernel of single-token steps (decode). */
  decodeMatmul: MatmulKernel;
  /**
   * Q8_0/Q4_0 matrices packed in groups of this many rows whose blocks interleave (src/model/weight-layout.ts:
   * block b of a group's row j at b·g + j), so a kernel reading a group's rows side by side reads one stream of
   * bytes; 1: row by row (GPUs: a row's lanes read neighbouring blocks). Every matmul kernel and the embedding
   * read either layout (shaders/weights.wgsl split_block_index).
   */
  weightRowGroup: number;
  /**
   * Q8_0/Q4_0 quants in rgba32uint textures instead of storage buffers — the same bytes, 16 a texel fetch where a
   * storage load brings 4 (src/model/weight-layout.ts weightTexelShape; matrices whose chunks fill no texture exactly
   * stay buffers). Every kernel reading weights reads either (shaders/weight_quants_*.wgsl).
   */
  weightTexels: boolean;
  /**
   * RMSNorm calls with one invocation per row instead of a workgroup (the same sums in the same order: the same
   * bits), no barrier — SwiftShader's (shaders/rmsnorm.wgsl).
   */
  rmsnormPerRow: boolean;
  /**
   * Single-token steps (decode): quantize the inputs of Q8_0/Q4_0 matmuls to int8 blocks (one dispatch per input,
   * shared by the matmuls reading it) and multiply int8 by int8 with dot4I8Packed — as llama.cpp's CPU matmuls do —
   * in the rows kernel (shaders/quantize_x.wgsl, shaders/weights_int8.wgsl). Inputs of a folded norm stay f32.
   */
  int8Activations: boolean;
  /** Fold each layer's RMSNorm into the matmuls that read it (every row recomputes 1/rms: one dispatch less per norm). */
  fuseNorm: boolean;
  /** With fuseNorm: every matmul invocation computes 1/rms itself (no barrier, x re-read) instead of its workgroup's lanes. */
  normPerInvocation: boolean;
  /**
   * The q, k and v projections of a layer as one matmul over [Wq; Wk; Wv] (uploaded stacked, where the three share
   * a weight type), writing each row into the step's q, k or v rows: one dispatch where there were three.
   */
  fuseQkv: boolean;
  /**
   * With fuseGlu: gate and up of a layer as one matmul over [Wgate; Wup] interleaved by row, the GLU in its epilogue
   * (one dispatch where there were two), where the matmul kernels store row pairs in one invocation (the rows kernel).
   */
  fuseGateUp: boolean;
  /** RoPE applied by the KV append's dispatch (normal pairs; not with a quantized K section): one dispatch a layer less. */
  ropeInAppend: boolean;
  /** Fold the GLU into the up projection (y = act(gate)·(Wup·x)): one dispatch and one activation pass less. */
  fuseGlu: boolean;
  /**
   * Greedy decode steps in flight at once: each step after the first is queued before the previous one's id has
   * come back (its token id read on the GPU from that step's argmax), so the GPU does not idle while ids make the
   * round trip (src/engine/scheduler.ts). 1: every step waits for the last one's id.
   */
  chainDepth: number;
}

function largestPowerOfTwoAtMost(value: number): number {
  return 2 ** Math.floor(Math.log2(Math.max(1, value)));
}

export function chooseTuning(gpu: Pick<GpuContext, "limits" | "adapter" | "hasSubgroups" | "hasSubgroupId" | "subgroupMinSize">): KernelTuning {
  const maxInvocations = Math.min(gpu.limits.maxComputeInvocationsPerWorkgroup, gpu.limits.maxComputeWorkgroupSizeX);
  const isCpuAdapter = gpu.adapter.architecture === "swiftshader" || gpu.adapter.isFallbackAdapter;
  // GPUs: a row's lanes in one subgroup (up to 32: a Q8_0 row of 1,024 values is 32 blocks) where the adapter has
  // subgroups with subgroup_id, else the workgroup's lanes summed in workgroup memory.
  const subgroupLanes = Math.min(32, largestPowerOfTwoAtMost(gpu.subgroupMinSize));
  const gpuDecodeMatmul: MatmulKernel = gpu.subgroupMinSize >= 4 && !subgroupMatmulUnavailable(gpu, subgroupLanes)
    ? { kind: "subgroup", lanesPerRow: subgroupLanes } : { kind: "cooperative", rowsPerWorkgroup: 4 };
  return {
    // SwiftShader: 16. Kernel GPU time per stories260K decode step (timestamps, 5 interleaved rounds): 7.28 ms with
    // 16 vs 7.44 with 64 — the small kernels (rope, KV append, merge, embedding) and the matrices of 64 rows or fewer
    // (then 4 workgroups, not 1) took less, ffn gate/up/output about the same — and 10.87 with 8; a
    // SmolLM2-135M-shaped Q8_0 step: 753 vs 763 ms (no change).
    workgroupSize: largestPowerOfTwoAtMost(Math.min(isCpuAdapter ? 16 : 64, maxInvocations)),
    reduceWorkgroupSize: largestPowerOfTwoAtMost(Math.min(isCpuAdapter ? 32 : 128, maxInvocations)),
    prefillTokenTile: isCpuAdapter ? 4 : 8,
    flashMaxRows: isCpuAdapter ? 64 : 128,
    flashQueryTile: isCpuAdapter ? 16 : 32,
    flashKeyTile: isCpuAdapter ? 32 : 64,
    // Measured on SwiftShader (stories260K, 2K-token prefill): staged tiles 250 tok/s, per-row reads 204 tok/s.
    flashSharedTiles: true,
    // SwiftShader runs 2–16 CPU threads: a few long chunks; a real GPU wants many short ones in flight.
    decodeMinChunk: isCpuAdapter ? 32 : 64,
    decodeMaxChunks: isCpuAdapter ? 16 : 64,
    decodeAttention: isCpuAdapter ? "grouped" : "per-head",
    prefillAttention: isCpuAdapter ? "grouped" : "tiled",
    groupedLanes: 4,
    // SwiftShader: a tree reduction's barriers cost more than scanning the row in one invocation.
    argmaxWorkgroupSize: isCpuAdapter ? 1 : largestPowerOfTwoAtMost(Math.min(128, maxInvocations)),
    // SwiftShader: 4 rows an invocation in decode, 8 in prefill, blocks in registers — x loaded once for the rows,
    // weights once for the tile's tokens (bench/results/swiftshader-profile.md); rows that are not whole 32-value
    // blocks take the row kernel. Prefill with 8 rows, side by side with 4 (3 interleaved rounds, medians): SmolLM2-
    // 135M-shape Q8_0 8.4 vs 6.1 tok/s, Q4_0 10.5 vs 7.3, stories260K Q8_0 1171 vs 1024; decode with 8 was no faster.
    // Small matrices keep 4 in prefill (src/model/forward.ts matmulKernelOf: the 8-row pipeline compiles longer).
    // GPUs (never measured on one here: no GPU was available): prefill in tiles of rows × tokens staged in workgroup
    // memory, decode with a row's lanes reading neighbouring blocks. Every variant is tested on SwiftShader.
    // SwiftShader also reads Q8_0/Q4_0 bytes in place (shaders/weights_block8.wgsl: no sign fix or scaling per value;
    // the input scaled instead, once for the invocation's rows). Side by side with int8 inputs (dot4I8Packed, which
    // SwiftShader emulates per lane), SmolLM2-135M shape, medians of interleaved rounds: Q4_0 decode 3.94 vs 2.69
    // tok/s, prefill 11.9 vs 8.7 (one page, 5 rounds, every round faster); 4.37 vs 3.78 (two builds' pages, 5
    // rounds); 4.2 vs 4.1 (bench/results/peers-quick-in-place.md, 3 rounds); Q8_0 decode 3.32 vs 3.09 (f32 inputs
    // without it: 2.61), 4.3 vs 3.9 in the peers run.
    matmul: isCpuAdapter ? { kind: "rows", rowsPerInvocation: 8, bytesInPlace: true } : { kind: "tiled" },
    // A decode matmul on int8 inputs runs 8 rows an invocation in workgroups of 8 (64 rows): the unpacked input
    // block serves twice as many rows. SmolLM2-135M shape, one page, 5 interleaved rounds, medians
    // (bench/results/decode-inputs.md), 8 rows × 8 over: 4 rows × 16 Q8_0 1.08× (every round faster), Q4_0 1.15×;
    // 4 rows × 4 (the f32 inputs' shape) 1.13×, 1.12×; 8 rows × 16 1.07×, 0.99×; f32 inputs 1.16×, 1.23×. (4 rows ×
    // 16 over 4 × 4 had been 1.02–1.08× in earlier runs.) f32 inputs keep 4 rows × 4: decode with 8 rows was no
    // faster there (above).
    decodeMatmul: isCpuAdapter ? { kind: "rows", rowsPerInvocation: 4, bytesInPlace: true, int8Input: { rowsPerInvocation: 8, invocations: 8 } } : gpuDecodeMatmul,
    // Int8 inputs: with bytes in place, SwiftShader unpacks a block of the int8 input to f32 once for the
    // invocation's rows (shaders/weights_int8.wgsl x_int8_placed; dot4I8Packed's result bit for bit): 8 words a
    // block to load where the f32 input is 32 floats, and on SwiftShader every load is a gather per lane. Side by
    // side with f32 inputs (one page, 5 interleaved rounds, medians), SmolLM2-135M shape: Q4_0 decode 4.05 vs 3.37
    // tok/s (every round faster), Q8_0 3.28 vs 3.08 (3 rounds of 5 faster); the matvec alone 1.13–1.25× Q4_0,
    // 1.04–1.13× Q8_0. Before bytes in place, int8 inputs with dot4I8Packed were the default (Q8_0 decode 3.1 vs 2.1
    // tok/s against the f32 inputs of then). GPUs: DP4a is native there, but the decode kernels they run (subgroup,
    // cooperative) do not take int8 inputs yet.
    int8Activations: isCpuAdapter,
    // SwiftShader: the rows kernel reads 8 rows an invocation (decode and prefill); packed row by row that is 8
    // streams of bytes an invocation, in groups of 8 one. SmolLM2-135M shape, one page, 5 interleaved rounds, medians
    // (bench/results/decode-inputs.md): decode Q8_0 5.01 vs 4.40 tok/s (1.14×, every round faster), Q4_0 5.70 vs
    // 5.68 (every round faster). The decode kernel over 30 distinct gate/up-sized matrices (54 MiB, out of the
    // caches): 0.95 vs 0.88 G weights/s (bench/results/swiftshader-profile.md). In scratch probes of a hand-written
    // kernel, groups of 32 rows were no faster than 8 and groups of 64 slower.
    weightRowGroup: isCpuAdapter ? 8 : 1,
    // SwiftShader gathers a storage load per lane, 4 bytes each; a texel fetch brings 16. webkv's decode matmul on a
    // [1536 × 576] matrix read 1.29× (Q8_0) and 1.43× (Q4_0) the weights a second from texels
    // (bench/results/swiftshader-profile.md); SmolLM2-135M-shape decode, one page, 5 interleaved rounds: Q8_0 1.15×,
    // Q4_0 1.14×, every round faster (bench/results/decode-inputs-texels.md); stories260K Q8_0 (small matrices)
    // decode 1.11×, prefill 0.99× (bench/results/weight-texels.md). GPUs: unmeasured, buffers.
    weightTexels: isCpuAdapter,
    // On SwiftShader the folded norm costs more than its dispatch: its barriers turn every matmul workgroup into
    // fibres (bench/results/decode-step-*.md, bench/results/peers-quick.md: prefill ≈ 0.3–0.7×, decode ≈ 0.8×).
    fuseNorm: !isCpuAdapter,
    rmsnormPerRow: isCpuAdapter,
    normPerInvocation: isCpuAdapter,
    fuseGlu: true,
    fuseQkv: true,
    fuseGateUp: true,
    ropeInAppend: true,
    chainDepth: 2,
  };
}
