// GGUF tensor rows → the GPU layout of shaders/weights.wgsl. Quantized blocks stay quantized: a Q8_0
// block of 34 bytes becomes 32 bytes of int8 in `data` and its 2-byte f16 scale in `scales`; a Q4_0
// block of 18 bytes becomes 16 bytes of nibbles and 2 bytes of scale. Same bytes, aligned for u32 reads.

import { GgufError } from "../gguf/errors.js";
import { GgmlType, ggmlTypeName } from "../gguf/types.js";

export const GPU_WEIGHT_TYPES = [GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0] as const;
export type GpuWeightType = (typeof GPU_WEIGHT_TYPES)[number];

export function isGpuWeightType(type: GgmlType): type is GpuWeightType {
  return (GPU_WEIGHT_TYPES as readonly GgmlType[]).includes(type);
}

export function assertGpuWeightType(tensorName: string, type: GgmlType): asserts type is GpuWeightType {
  if (!isGpuWeightType(type)) {
    throw new GgufError(
      "unsupported_tensor_type",
      `tensor "${tensorName}" is ${ggmlTypeName(type)}, which webkv's kernels do not read yet (supported: F32, F16, Q8_0, Q4_0)`,
    );
  }
}

/** Bytes of one row as stored in GGUF, and as data + scales on the GPU. */
export function weightRowBytes(type: GpuWeightType, cols: number): { gguf: number; data: number; scales: number } {
  switch (type) {
    case GgmlType.F32: return { gguf: cols * 4, data: cols * 4, scales: 0 };
    case GgmlType.F16: return { gguf: cols * 2, data: cols * 2, scales: 0 };
    case GgmlType.Q8_0: return { gguf: (cols / 32) * 34, data: cols, scales: (cols / 32) * 2 };
    case GgmlType.Q4_0: return { gguf: (cols / 32) * 18, data: cols / 2, scales: (cols / 32) * 2 };
  }
}

export interface PackedRows {
  data: Uint8Array;
  /** f16 scales, one per block, padded to whole words; null for F32/F16. */
  scales: Uint8Array | null;
}

/** Repacks `rows` GGUF rows of `type` (contiguous bytes) into the GPU layout. */
export function packRows(type: GpuWeightType, bytes: Uint8Array, rows: number, cols: number): PackedRows {
  if (cols % 4 !== 0) {
    throw new GgufError("shape_mismatch", `rows of ${cols} values are not a multiple of 4, which the matmul kernels require`);
  }
  if (type === GgmlType.F32 || type === GgmlType.F16) return { data: bytes, scales: null };
  const blockBytes = type === GgmlType.Q8_0 ? 34 : 18;
  const quantBytes = blockBytes - 2;
  const blocks = (rows * cols) / 32;
  const data = new Uint8Array(blocks * quantBytes);
  const scales = new Uint8Array(Math.ceil(blocks / 2) * 4);
  for (let b = 0; b < blocks; b++) {
    const src = b * blockBytes;
    scales[b * 2] = bytes[src]!;
    scales[b * 2 + 1] = bytes[src + 1]!;
    data.set(bytes.subarray(src + 2, src + blockBytes), b * quantBytes);
  }
  return { data, scales };
}

/** Values per "weight block" as shaders/weights.wgsl reads them (BLOCK_VALUES there). */
export function weightBlockValues(type: GpuWeightType, cols: number): number {
  const isFloat = type === GgmlType.F32 || type === GgmlType.F16;
  return isFloat && cols % 32 !== 0 ? 4 : 32;
}
