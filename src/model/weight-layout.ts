// GGUF tensor rows → the GPU layout of shaders/weights.wgsl. Quantized blocks stay quantized, in one of
// three layouts, every one read as aligned u32 words:
//
//   float         F32, F16, BF16: the GGUF bytes as they are (F16/BF16: two values per word, even column low).
//   split         Q8_0, Q4_0: structure of arrays. A Q8_0 block of 34 bytes becomes 32 bytes of int8 in `data`
//                 and its 2-byte f16 scale in `scales`; a Q4_0 block of 18 bytes becomes 16 bytes of nibbles
//                 and 2 bytes of scale (scales: one f16 per block, padded to whole words). Blocks follow each
//                 other row by row, or (a row group g > 1) rows go in groups of g whose blocks interleave: block
//                 b of the group's row j is the group's block b·g + j (the last group of a chunk holds the rows
//                 left, g' < g, and interleaves by g'). The same bytes in another order, so that a kernel
//                 reading g rows side by side (SwiftShader's rows kernel) walks one stream instead of g
//                 (shaders/weights.wgsl split_block_index). On CPU adapters (tuning.weightTexels) `data` is an
//                 rgba32uint texture instead of a buffer — the same bytes, 16 to a texel, texel t at (t mod w,
//                 ⌊t / w⌋), w a power of two (weightTexelShape) — read by shaders/weight_quants_texels.wgsl.
//   padded        every other quantized type: each GGUF block copied byte for byte into `data`, followed by
//                 zero bytes up to a multiple of 4, so every block starts on a word and its fields keep their
//                 GGUF offsets (shaders/weights.wgsl lists them). No `scales` buffer.
//                   Q4_1 20 B · Q5_0 22 → 24 · Q5_1 24 · IQ4_NL 18 → 20           (32 values)
//                   Q2_K 84 · Q3_K 110 → 112 · Q4_K 144 · Q5_K 176 · Q6_K 210 → 212 · IQ4_XS 136   (256 values)
//
// A row is always a whole number of GGUF blocks, so rows split into chunks at block boundaries
// (src/model/weights.ts). The estimator's webkv profile (src/estimator/webkv.ts) predicts these bytes; the
// two are compared in tests/estimator/webkv.test.ts.

import { GgufError } from "../gguf/errors.js";
import { DEQUANTIZABLE_TYPES } from "../gguf/quant.js";
import { GGML_TYPE_LAYOUT, GgmlType, ggmlTypeName, type GgufTensorInfo } from "../gguf/types.js";

export const GPU_WEIGHT_TYPES = [
  GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1,
  GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.IQ4_XS,
] as const;
export type GpuWeightType = (typeof GPU_WEIGHT_TYPES)[number];

export type GpuWeightLayout = "float" | "split" | "padded";

export function isGpuWeightType(type: GgmlType): type is GpuWeightType {
  return (GPU_WEIGHT_TYPES as readonly GgmlType[]).includes(type);
}

export function assertGpuWeightType(tensorName: string, type: GgmlType): asserts type is GpuWeightType {
  if (!isGpuWeightType(type)) {
    throw new GgufError(
      "unsupported_tensor_type",
      `tensor "${tensorName}" is ${ggmlTypeName(type)}, which webkv's kernels do not read yet ` +
        `(supported: ${GPU_WEIGHT_TYPES.map(ggmlTypeName).join(", ")})`,
    );
  }
}

/** A tensor the graph reads, checked before anything is uploaded: matrices must be a GPU weight type, vectors
 *  (norms, dequantized on the CPU at load) a type `dequantize` reads. Either error names the tensor and its type. */
export function assertReadableTensorType(tensor: Pick<GgufTensorInfo, "name" | "dims" | "type">): void {
  if (tensor.dims.length >= 2) {
    assertGpuWeightType(tensor.name, tensor.type);
  } else if (!DEQUANTIZABLE_TYPES.includes(tensor.type)) {
    throw new GgufError(
      "unsupported_tensor_type",
      `tensor "${tensor.name}" is ${ggmlTypeName(tensor.type)}, which webkv cannot read ` +
        `(supported: ${DEQUANTIZABLE_TYPES.map(ggmlTypeName).join(", ")})`,
    );
  }
}

export function gpuWeightLayout(type: GpuWeightType): GpuWeightLayout {
  if (type === GgmlType.F32 || type === GgmlType.F16 || type === GgmlType.BF16) return "float";
  if (type === GgmlType.Q8_0 || type === GgmlType.Q4_0) return "split";
  return "padded";
}

/** Bytes of one GGUF block of a "padded" type on the GPU: the block rounded up to whole words. */
export function paddedBlockBytes(type: GpuWeightType): number {
  return Math.ceil(GGML_TYPE_LAYOUT[type].blockBytes / 4) * 4;
}

/** Bytes of one row as stored in GGUF, and as data + scales on the GPU. */
export function weightRowBytes(type: GpuWeightType, cols: number): { gguf: number; data: number; scales: number } {
  const { blockElements, blockBytes } = GGML_TYPE_LAYOUT[type];
  const blocks = cols / blockElements;
  const gguf = blocks * blockBytes;
  switch (gpuWeightLayout(type)) {
    case "float": return { gguf, data: gguf, scales: 0 };
    case "split": return { gguf, data: blocks * (blockBytes - 2), scales: blocks * 2 };
    case "padded": return { gguf, data: blocks * paddedBlockBytes(type), scales: 0 };
  }
}

/** Rows of a matrix that fit in one chunk of at most `maxChunkBytes` (each chunk packs its own scales from
 *  block 0, so any row count works; at least one row). */
export function rowsPerChunk(type: GpuWeightType, cols: number, maxChunkBytes: number): number {
  const row = weightRowBytes(type, cols);
  return Math.max(1, Math.floor(maxChunkBytes / Math.max(row.data, row.scales + 2, 1)));
}

export interface PackedRows {
  data: Uint8Array;
  /** f16 scales, one per block, padded to whole words ("split" types); null otherwise. */
  scales: Uint8Array | null;
}

/** Whether `rows` can be a row group: a power of two (1 included). */
export function isWeightRowGroup(rows: number): boolean {
  return Number.isInteger(rows) && rows >= 1 && Number.isInteger(Math.log2(rows));
}

/** The row group a matrix of `type` is packed with when `requested` is asked for: split layouts take it, the
 *  others keep their rows in order (1). */
export function weightRowGroup(type: GpuWeightType, requested: number): number {
  if (!isWeightRowGroup(requested)) {
    throw new Error(`a weight row group is a power of two, got ${requested}`);
  }
  return gpuWeightLayout(type) === "split" ? requested : 1;
}

/** Where block b of row `row` of a chunk of `rows` rows sits, in blocks, packed with row group `rowGroup`
 *  (shaders/weights.wgsl split_block_index, on the CPU). */
export function splitBlockIndex(row: number, block: number, blocksPerRow: number, rows: number, rowGroup: number): number {
  const groupStart = row - (row % rowGroup);
  const groupRows = Math.min(rowGroup, rows - groupStart);
  return groupStart * blocksPerRow + block * groupRows + (row - groupStart);
}

/** Repacks `rows` GGUF rows of `type` (contiguous bytes) into the GPU layout; split layouts in row groups of
 *  `rowGroup` (weightRowGroup). */
export function packRows(type: GpuWeightType, bytes: Uint8Array, rows: number, cols: number, rowGroup = 1): PackedRows {
  if (cols % 4 !== 0) {
    throw new GgufError("shape_mismatch", `rows of ${cols} values are not a multiple of 4, which the matmul kernels require`);
  }
  const { blockElements, blockBytes } = GGML_TYPE_LAYOUT[type];
  if (cols % blockElements !== 0) {
    throw new GgufError("shape_mismatch", `${ggmlTypeName(type)} rows hold blocks of ${blockElements} values; a row of ${cols} is not whole blocks`);
  }
  const layout = gpuWeightLayout(type);
  if (layout === "float") return { data: bytes, scales: null };
  const blocks = (rows * cols) / blockElements;
  if (layout === "padded") {
    const padded = paddedBlockBytes(type);
    if (padded === blockBytes) return { data: bytes.subarray(0, blocks * blockBytes), scales: null };
    const data = new Uint8Array(blocks * padded);
    for (let b = 0; b < blocks; b++) data.set(bytes.subarray(b * blockBytes, (b + 1) * blockBytes), b * padded);
    return { data, scales: null };
  }
  const group = weightRowGroup(type, rowGroup);
  const blocksPerRow = cols / blockElements;
  const quantBytes = blockBytes - 2;
  const data = new Uint8Array(blocks * quantBytes);
  const scales = new Uint8Array(Math.ceil(blocks / 2) * 4);
  for (let b = 0; b < blocks; b++) {
    const src = b * blockBytes;
    const to = group === 1 ? b : splitBlockIndex(Math.floor(b / blocksPerRow), b % blocksPerRow, blocksPerRow, rows, group);
    scales[to * 2] = bytes[src]!;
    scales[to * 2 + 1] = bytes[src + 1]!;
    data.set(bytes.subarray(src + 2, src + blockBytes), to * quantBytes);
  }
  return { data, scales };
}

/**
 * The texture holding `bytes` of split-layout quants, 16 a texel, with no texel to spare (its bytes are the
 * buffer's, so the estimator's figures hold): width the largest power of two dividing the texels that is at most
 * `maxDimension`, height texels ÷ width; undefined when that height exceeds `maxDimension` too (the chunk stays a
 * buffer) or the bytes are not whole texels.
 */
export function weightTexelShape(bytes: number, maxDimension: number): { width: number; height: number; widthLog2: number } | undefined {
  if (!(bytes > 0 && bytes % 16 === 0)) return undefined;
  const texels = bytes / 16;
  let widthLog2 = 0;
  while (texels % 2 ** (widthLog2 + 1) === 0 && 2 ** (widthLog2 + 1) <= maxDimension) widthLog2++;
  const width = 2 ** widthLog2;
  const height = texels / width;
  return width <= maxDimension && height <= maxDimension ? { width, height, widthLog2 } : undefined;
}

/** Values per "weight block" as shaders/weights.wgsl reads them (BLOCK_VALUES there): 32, or 4 for float rows
 *  that are not a multiple of 32. K-quant super-blocks of 256 are read as 8 sub-blocks of 32. */
export function weightBlockValues(type: GpuWeightType, cols: number): number {
  return gpuWeightLayout(type) === "float" && cols % 32 !== 0 ? 4 : 32;
}
