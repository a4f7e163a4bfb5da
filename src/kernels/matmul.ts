// Wrapper of the matmul family: y (+)= W·x with W quantized on the GPU, optionally reading rmsnorm(x)·g (the
// norm folded in) and/or writing act(y)·(W·x) (the GLU folded in). Five kernels: shaders/matmul.wgsl, one row
// per invocation and a tile of tokens (any row length); shaders/matmul_rows.wgsl, several rows per invocation
// for one token or a tile of 4, blocks held in registers (SwiftShader's); shaders/matmul_coop.wgsl, lanes of
// a workgroup cooperating on each row (coalesced weight reads, for GPUs), summed in workgroup memory;
// shaders/matmul_subgroup.wgsl, the same with a row's lanes in one subgroup, summed by subgroup shuffles; and
// shaders/matmul_tiled.wgsl, tiles of rows × tokens staged in workgroup memory (prefill on GPUs). Owns one
// pipeline per (kernel, format, row length, token tile, accumulate, logit-rows, fusions) and one small uniform per
// weight chunk.

import activationWgsl from "../../shaders/activation.wgsl?raw";
import matmulWgsl from "../../shaders/matmul.wgsl?raw";
import matmulCoopWgsl from "../../shaders/matmul_coop.wgsl?raw";
import matmulRowsWgsl from "../../shaders/matmul_rows.wgsl?raw";
import matmulNormWgsl from "../../shaders/matmul_norm.wgsl?raw";
import matmulSubgroupWgsl from "../../shaders/matmul_subgroup.wgsl?raw";
import matmulTiledWgsl from "../../shaders/matmul_tiled.wgsl?raw";
import int8Wgsl from "../../shaders/int8.wgsl?raw";
import weightsWgsl from "../../shaders/weights.wgsl?raw";
import weightsBlock8Wgsl from "../../shaders/weights_block8.wgsl?raw";
import weightsInt8Wgsl from "../../shaders/weights_int8.wgsl?raw";
import type { GpuContext } from "../gpu/device.js";
import { bindGroup, createComputeProgram, f32, layoutEntries, type BufferBinding, type WgslConstant } from "../gpu/pipelines.js";
import type { GatedActivation } from "../model/architecture.js";
import { kernelSource } from "./wgsl.js";
import { texelWidthLog2, weightQuantsLibrary, weightTexelsBinding } from "./weight-quants.js";
import { gpuWeightLayout, type GpuWeightType } from "../model/weight-layout.js";
import type { GpuMatrix } from "../model/weights.js";
import { ceilDiv, type KernelCall } from "./kernel-call.js";
import { int8RowWords } from "./quantize-x.js";
import { GgmlType, ggmlTypeName } from "../gguf/types.js";

export interface MatmulOptions {
  /** Tokens per invocation: 1 for decode, the prefill tile for batches. */
  tokenTile: number;
  /** y += W·x (residual connections) instead of y = W·x. */
  accumulate: boolean;
  /** x has the step's logit rows (output head) instead of all its tokens. */
  xRowsAreLogitRows?: boolean;
  workgroupSize: number;
  /**
   * Read rmsnorm(x)·weight instead of x, 1/rms summed over `lanes` partials like rmsnorm.wgsl with that workgroup
   * size — by the workgroup's lanes (a barrier), or with `perInvocation` by every invocation alone (no barrier).
   */
  norm?: { weight: GPUBuffer; eps: number; lanes: number; perInvocation?: boolean };
  /** y holds the gate projection: y = act(y)·(W·x). With `gluPaired`, W is [Wgate; Wup] interleaved by row. */
  glu?: GatedActivation;
  /**
   * W's rows interleave gate and up (row 2i: gate row i, row 2i+1: up row i; 2·ffn rows) and y[t, i] = act(gate)·up
   * in one dispatch. Needs `glu`, and a kernel that stores a row pair in one invocation (the rows kernel: see
   * pairsGateUpRows).
   */
  gluPaired?: boolean;
  /** With `norm`: stage the normalized tile in workgroup memory when it fits (default true). */
  stageNorm?: boolean;
  /**
   * Which kernel: one row per invocation (default); `rowsPerInvocation` rows per invocation for one token or a tile
   * of 4 (4 rows then; other tiles, or rows that are not whole 32-value blocks, fall back to "row");
   * `rowsPerWorkgroup` rows shared by the workgroup's lanes; `lanesPerRow` lanes of a subgroup sharing each row
   * (needs subgroups with subgroup_id, and lanesPerRow ≤ the adapter's smallest subgroup); or tiles of rows ×
   * 16 tokens staged in workgroup memory ("tiled": the token tile is its own, `tokenTile` is not used).
   */
  kernel?: MatmulKernel;
  /**
   * x quantized to int8 blocks by quantizeXCall (the same tokens as `x`): the rows kernel multiplies Q8_0/Q4_0
   * blocks by them with dot4I8Packed or, with bytesInPlace, unpacks them to f32 once for its rows — the same result
   * bit for bit (shaders/weights_int8.wgsl). Only where int8InputApplies; not with `norm`.
   */
  xInt8?: GPUBuffer;
  /**
   * W is [Wq; Wk; Wv] (the q, k and v projections as one matrix, qRows + 2·kvRows rows): each output row goes to
   * the q, k or v rows of y, which begin at these float offsets (q: [tokens, qRows]; k, v: [tokens, kvRows]).
   * `yStride` is not used.
   */
  qkvOutput?: QkvOutput;
}

/** Where a fused q/k/v matmul writes (MatmulOptions.qkvOutput): row counts and the float offsets of q, k and v in y. */
export interface QkvOutput {
  qRows: number;
  kvRows: number;
  qBase: number;
  kBase: number;
  vBase: number;
}

export type MatmulKernel =
  | { kind: "row" }
  /** bytesInPlace: Q8_0/Q4_0 values read where they sit in their words, the input scaled instead (weights_block8.wgsl);
   *  an int8 input unpacked to f32 once a block for them (weights_int8.wgsl x_int8_placed) instead of dot4I8Packed.
   *  int8Input: rows an invocation and invocations a workgroup where the input is int8 (default: as with f32 inputs). */
  | { kind: "rows"; rowsPerInvocation: 4 | 8; bytesInPlace?: boolean; int8Input?: { rowsPerInvocation: 4 | 8; invocations: number } }
  | { kind: "cooperative"; rowsPerWorkgroup: number }
  | { kind: "subgroup"; lanesPerRow: number }
  | { kind: "tiled" };

/** Bytes of a matmul chunk's uniform (matmul_norm.wgsl's MatmulParams: its rows, offsets and epilogue). */
export const MATMUL_PARAMS_BYTES = 48;

/** What the epilogue does with a row's value: matmul_norm.wgsl's EPILOGUE_* (MatmulParams.epilogue). */
const EPILOGUE = { store: 0, accumulate: 1, glu: 2, gluPaired: 3, qkv: 4 } as const;

/** Tokens in a tile of the tiled kernel; its rows (64, or 32 where workgroup memory is short) come from the limits. */
export const TILED_TOKENS = 16;

/** Calls computing y[:, 0:W.rows] (+)= W·x for every chunk of W. */
export async function matmulCalls(
  gpu: GpuContext,
  stepUniform: GPUBuffer,
  weight: GpuMatrix,
  x: GPUBuffer,
  y: BufferBinding,
  yStride: number,
  options: MatmulOptions,
): Promise<KernelCall[]> {
  const norm = options.norm;
  if (options.glu && options.accumulate) throw new Error("a GLU matmul writes y = act(y)·(W·x); it cannot accumulate");
  const sharedNorm = norm !== undefined && !norm.perInvocation;
  const requested = options.kernel ?? { kind: "row" };
  if (requested.kind === "rows") {
    const int8Input = requested.int8Input;
    const rowsPerInvocation = [requested.rowsPerInvocation, ...(int8Input ? [int8Input.rowsPerInvocation] : [])];
    if (rowsPerInvocation.some((rows) => rows !== 4 && rows !== 8)) {
      throw new Error(`the rows matmul takes 4 or 8 rows per invocation, got ${rowsPerInvocation.join(" and ")}`);
    }
    const maxInvocations = gpu.limits.maxComputeInvocationsPerWorkgroup;
    if (int8Input && !(Number.isInteger(int8Input.invocations) && int8Input.invocations >= 1 && int8Input.invocations <= maxInvocations)) {
      throw new Error(`the rows matmul runs 1 to ${maxInvocations} invocations a workgroup, got ${int8Input.invocations}`);
    }
  }
  const kernel = resolvedKernel(weight.type, weight.cols, requested, options.tokenTile);
  const qkv = options.qkvOutput;
  if (options.gluPaired && (!options.glu || kernel.kind !== "rows" || qkv)) {
    throw new Error(`a paired gate/up matmul needs a GLU and the rows kernel (one invocation stores a row pair), got the ${kernel.kind} kernel${options.glu ? "" : " without a GLU"}`);
  }
  if (options.gluPaired && weight.chunks.some((chunk) => chunk.rowOffset % 4 !== 0)) {
    throw new Error(`a paired gate/up matmul needs chunks that start at a multiple of 4 rows (a row pair in one invocation), got chunks at rows ${weight.chunks.map((c) => c.rowOffset).join(", ")}`);
  }
  if (qkv && (options.glu || options.accumulate || weight.rows !== qkv.qRows + 2 * qkv.kvRows)) {
    throw new Error(`a fused q/k/v matmul stores ${qkv.qRows} + 2 × ${qkv.kvRows} rows; got ${weight.rows} rows${options.glu ? " with a GLU" : ""}${options.accumulate ? ", accumulating" : ""}`);
  }
  if (options.xInt8) {
    if (norm) throw new Error("an int8 input is quantized after its norm: the norm cannot be folded into its matmul");
    if (!int8InputApplies(weight.type, weight.cols, requested, options.tokenTile)) {
      throw new Error(`an int8 input needs the rows kernel with Q8_0 or Q4_0 rows of whole blocks, got ${ggmlTypeName(weight.type)} rows of ${weight.cols} with the ${kernel.kind} kernel`);
    }
  }
  const shape = kernelShape(gpu, kernel, options.workgroupSize, sharedNorm ? norm.lanes : 1, options.xInt8 ? weight.cols : 0);
  const tokenTile = shape.tokenTile ?? options.tokenTile;
  // The normalized tile is staged in workgroup memory when it fits beside the kernel's other workgroup arrays
  // (not by the tiled kernel, which stages each step's inputs normed).
  const workgroupBytes = tokenTile * ((norm?.lanes ?? 1) + (kernel.kind === "cooperative" ? shape.workgroupSize : 0) + weight.cols) * 4;
  const staged = sharedNorm && kernel.kind !== "tiled" && (options.stageNorm ?? true) && workgroupBytes <= gpu.limits.maxComputeWorkgroupStorageSize;
  const quants = weightQuantsLibrary(weight, 7);
  const code = kernelSource(int8Wgsl + weightsWgsl + quants.wgsl + activationWgsl + matmulNormWgsl + shape.wgsl, {
    WEIGHT_FORMAT: weight.type,
    COLS: weight.cols,
    TOKEN_TILE: tokenTile,
    WORKGROUP_SIZE: shape.workgroupSize,
    NORM_INPUT: norm !== undefined,
    NORM_STAGED: staged,
    NORM_LANES: norm?.lanes ?? 1,
    NORM_PER_INVOCATION: norm?.perInvocation ?? false,
    EPS: f32(norm?.eps ?? 0),
    GELU_TANH: options.glu === "gelu_tanh",
    BYTES_IN_PLACE: false,
    ROW_GROUP: weight.rowGroup,
    ...quants.constants,
    ...shape.constants,
  }, shape.directives);
  const program = await createComputeProgram(
    gpu.device,
    `matmul${shape.tag}${options.xInt8 ? " int8x" : ""} ${weight.type}x${weight.cols}${weight.rowGroup > 1 ? ` rowgroup${weight.rowGroup}` : ""}${weight.texels ? " texels" : ""} tile${tokenTile}${norm ? (staged ? " norm staged" : norm.perInvocation ? " norm per invocation" : " norm") : ""}${options.glu === "gelu_tanh" ? " gelu_tanh" : ""}`,
    code,
    layoutEntries(["uniform", "uniform", "read", "read", "read", "write", "read", ...(weight.texels ? ["texels" as const] : [])]),
  );
  // What the epilogue does (matmul_norm.wgsl's EPILOGUE_*): a uniform, so one pipeline serves them all.
  const epilogue = options.gluPaired ? EPILOGUE.gluPaired : options.glu ? EPILOGUE.glu : qkv ? EPILOGUE.qkv
    : options.accumulate ? EPILOGUE.accumulate : EPILOGUE.store;
  const logitRows = options.xRowsAreLogitRows ?? false;
  const calls: KernelCall[] = [];
  for (const chunk of weight.chunks) {
    const params = await gpu.memory.allocate("other", `${weight.name} matmul params`, MATMUL_PARAMS_BYTES, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    gpu.device.queue.writeBuffer(params, 0, new Uint32Array([
      chunk.rows, chunk.rowOffset, yStride, epilogue, qkv?.qRows ?? 0, qkv?.kvRows ?? 0, qkv?.qBase ?? 0, qkv?.kBase ?? 0, qkv?.vBase ?? 0, logitRows ? 1 : 0, texelWidthLog2(chunk), 0,
    ]));
    calls.push({
      label: `matmul ${weight.name}`,
      pipeline: program.pipeline,
      bindGroup: bindGroup(gpu.device, program, weight.name, [stepUniform, params, chunk.data, chunk.scales, options.xInt8 ?? x, y, norm?.weight ?? x, ...weightTexelsBinding(weight, chunk)]),
      workgroups: (s) => [
        ceilDiv(chunk.rows, shape.rowsPerWorkgroup),
        ceilDiv(logitRows ? s.numLogitRows : s.numTokens, tokenTile),
        1,
      ],
    });
  }
  return calls;
}

/** What a kernel kind compiles (its WGSL, workgroup size, extra constants, label tag) and how many rows a workgroup covers. */
function kernelShape(gpu: GpuContext, kernel: MatmulKernel, workgroupSize: number, normLanes: number, int8Cols: number): {
  wgsl: string; workgroupSize: number; rowsPerWorkgroup: number; constants: Record<string, WgslConstant>; tag: string;
  directives?: string[]; tokenTile?: number;
} {
  // A folded norm's partials take NORM_LANES lanes of the workgroup: no kernel has fewer.
  if (kernel.kind === "cooperative") {
    const rows = kernel.rowsPerWorkgroup;
    const invocations = Math.max(workgroupSize, normLanes);
    if (!(Number.isInteger(Math.log2(rows)) && rows <= invocations)) {
      throw new Error(`a cooperative matmul shares a workgroup of ${invocations} lanes among a power of two of rows at most that, got ${rows}`);
    }
    return { wgsl: matmulCoopWgsl, workgroupSize: invocations, rowsPerWorkgroup: rows, constants: { ROWS_PER_WORKGROUP: rows }, tag: ` coop${rows}` };
  }
  if (kernel.kind === "subgroup") {
    const lanes = kernel.lanesPerRow;
    const why = subgroupMatmulUnavailable(gpu, lanes);
    if (why) throw new Error(`the subgroup matmul with ${lanes} lanes a row cannot run here: ${why}`);
    const invocations = Math.max(workgroupSize, normLanes, lanes);
    return {
      wgsl: weightsBlock8Wgsl + matmulSubgroupWgsl, workgroupSize: invocations, rowsPerWorkgroup: invocations / lanes,
      constants: { LANES_PER_ROW: lanes }, tag: ` subgroup${lanes}`, directives: ["enable subgroups;"],
    };
  }
  if (kernel.kind === "tiled") {
    // 64 rows × 16 tokens (64 lanes, 4 × 4 outputs each), or 32 rows where the staged tiles and the norm's partials
    // would not fit the workgroup memory the adapter grants.
    const bytes = (rows: number) => (rows * 8 + TILED_TOKENS * 8) * 16 + TILED_TOKENS * (normLanes + 1) * 4;
    const rows = bytes(64) <= gpu.limits.maxComputeWorkgroupStorageSize ? 64 : 32;
    const invocations = (rows / 4) * (TILED_TOKENS / 4);
    if (bytes(rows) > gpu.limits.maxComputeWorkgroupStorageSize || invocations > gpu.limits.maxComputeInvocationsPerWorkgroup) {
      throw new Error(`the tiled matmul needs ${bytes(rows)} bytes of workgroup memory and ${invocations} invocations; the adapter grants ${gpu.limits.maxComputeWorkgroupStorageSize} and ${gpu.limits.maxComputeInvocationsPerWorkgroup}`);
    }
    return {
      wgsl: weightsBlock8Wgsl + matmulTiledWgsl, workgroupSize: invocations, rowsPerWorkgroup: rows,
      constants: { TILE_ROWS: rows, TILE_TOKENS: TILED_TOKENS }, tag: ` tiled${rows}x${TILED_TOKENS}`, tokenTile: TILED_TOKENS,
    };
  }
  if (kernel.kind === "rows") {
    // The row kernel's rows per workgroup (as many workgroups for the CPU threads to share) with fewer
    // invocations, but never fewer than a folded norm's lanes, nor than the adapter's smallest subgroup: SwiftShader
    // runs 4 invocations side by side as one SIMD group, and a workgroup of 2 (8 rows each, of 16) left half its
    // lanes idle — prefill at half speed.
    const int8Shape = int8Cols > 0 ? kernel.int8Input : undefined;
    const rows = int8Shape?.rowsPerInvocation ?? kernel.rowsPerInvocation;
    const invocations = Math.max(int8Shape?.invocations ?? Math.floor(workgroupSize / rows), normLanes, gpu.subgroupMinSize, 1);
    return {
      wgsl: weightsBlock8Wgsl + weightsInt8Wgsl + matmulRowsWgsl, workgroupSize: invocations, rowsPerWorkgroup: rows * invocations,
      constants: { ROWS_PER_INVOCATION: rows, INT8_X: int8Cols > 0, X_INT8_STRIDE: int8Cols > 0 ? int8RowWords(int8Cols) : 4, BYTES_IN_PLACE: kernel.bytesInPlace ?? false },
      tag: ` rows${rows}${kernel.bytesInPlace ? " in place" : ""} wg${invocations}`,
    };
  }
  const invocations = Math.max(workgroupSize, normLanes);
  return { wgsl: matmulWgsl, workgroupSize: invocations, rowsPerWorkgroup: invocations, constants: {}, tag: "" };
}

/**
 * The kernel a matmul of this weight and token tile runs when `requested` is asked for: the rows, subgroup and tiled
 * kernels read rows of whole 32-value blocks (float formats: any multiple of 4 values), the rows kernel 1 token or a
 * tile of 4 (4 or 8 rows an invocation); other rows take the row kernel.
 */
function resolvedKernel(type: GpuWeightType, cols: number, requested: MatmulKernel, tokenTile: number): MatmulKernel {
  const blocksFit = cols % 32 === 0 || (gpuWeightLayout(type) === "float" && cols % 4 === 0);
  return !["rows", "subgroup", "tiled"].includes(requested.kind) ? requested
    : !blocksFit ? { kind: "row" }
    : requested.kind !== "rows" ? requested
    : ![1, 4].includes(tokenTile) ? { kind: "row" }
    : requested;
}

/**
 * Whether a matmul of this weight with this kernel and token tile stores every aligned row pair (2i, 2i+1) in one
 * invocation, gate before up (MatmulOptions.gluPaired): the rows kernel as it resolves for the tile.
 */
export function pairsGateUpRows(type: GpuWeightType, cols: number, kernel: MatmulKernel | undefined, tokenTile: number): boolean {
  return resolvedKernel(type, cols, kernel ?? { kind: "row" }, tokenTile).kind === "rows";
}

/**
 * Whether a matmul of this weight with this kernel and token tile can read an int8 input (xInt8): Q8_0 or Q4_0
 * rows, and the rows kernel as it resolves for the tile (1 token, or a tile of 4).
 */
export function int8InputApplies(type: GpuWeightType, cols: number, kernel: MatmulKernel | undefined, tokenTile: number): boolean {
  return (type === GgmlType.Q8_0 || type === GgmlType.Q4_0) && resolvedKernel(type, cols, kernel ?? { kind: "row" }, tokenTile).kind === "rows";
}

/**
 * Matrices below this many weights keep f32 inputs even where int8 ones apply: their matmul is shorter than the
 * quantizing dispatch it would add (stories260K Q8_0, 64-wide, decoded at 179 tok/s with int8 inputs, 209 without).
 * src/estimator/webkv.ts sizes the int8 buffer by the same rule.
 */
export const INT8_INPUT_MIN_WEIGHTS = 65536;

/** Why the subgroup matmul with `lanesPerRow` lanes a row cannot run on this device (undefined when it can). */
export function subgroupMatmulUnavailable(gpu: Pick<GpuContext, "hasSubgroups" | "hasSubgroupId" | "subgroupMinSize">, lanesPerRow: number): string | undefined {
  if (!gpu.hasSubgroups) return "the device has no \"subgroups\" feature";
  if (!gpu.hasSubgroupId) return "WGSL here has no subgroup_id builtin";
  if (!(Number.isInteger(Math.log2(lanesPerRow)) && lanesPerRow >= 1)) return `lanes a row must be a power of two, got ${lanesPerRow}`;
  if (lanesPerRow > gpu.subgroupMinSize) return `the adapter's smallest subgroup has ${gpu.subgroupMinSize} lanes`;
  return undefined;
}
