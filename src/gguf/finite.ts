// Non-finite weights (NaN, ±Inf) found without dequantizing: a float tensor's values are checked directly,
// a quantized tensor's f16 block fields (scales and mins — its only floats: the quants are integers, so a
// block is finite exactly when these are). A file with such a value would otherwise run and print garbage.

import { GgufError } from "./errors.js";
import { GGML_TYPE_LAYOUT, GgmlType, ggmlTypeName } from "./types.js";

/** Byte offsets of the f16 fields inside one block, per quantized type (ggml-common.h's block layouts). */
const HALF_FIELDS: Partial<Record<GgmlType, number[]>> = {
  [GgmlType.Q4_0]: [0],
  [GgmlType.Q4_1]: [0, 2],
  [GgmlType.Q5_0]: [0],
  [GgmlType.Q5_1]: [0, 2],
  [GgmlType.Q8_0]: [0],
  [GgmlType.Q2_K]: [80, 82],
  [GgmlType.Q3_K]: [108],
  [GgmlType.Q4_K]: [0, 2],
  [GgmlType.Q5_K]: [0, 2],
  [GgmlType.Q6_K]: [208],
  [GgmlType.IQ4_NL]: [0],
  [GgmlType.IQ4_XS]: [0],
};

/**
 * Index of the first non-finite value (float types) or block (quantized types) in `bytes` of `type`, or -1.
 * Types without a known layout are not checked (-1).
 */
export function firstNonFinite(type: GgmlType, bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (type === GgmlType.F32) {
    for (let i = 0; i + 4 <= bytes.length; i += 4) if ((view.getUint32(i, true) & 0x7f800000) === 0x7f800000) return i / 4;
    return -1;
  }
  if (type === GgmlType.F16) {
    for (let i = 0; i + 2 <= bytes.length; i += 2) if ((view.getUint16(i, true) & 0x7c00) === 0x7c00) return i / 2;
    return -1;
  }
  if (type === GgmlType.BF16) {
    for (let i = 0; i + 2 <= bytes.length; i += 2) if ((view.getUint16(i, true) & 0x7f80) === 0x7f80) return i / 2;
    return -1;
  }
  const fields = HALF_FIELDS[type];
  if (!fields) return -1;
  const blockBytes = GGML_TYPE_LAYOUT[type].blockBytes;
  for (let block = 0, at = 0; at + blockBytes <= bytes.length; block++, at += blockBytes) {
    for (const field of fields) if ((view.getUint16(at + field, true) & 0x7c00) === 0x7c00) return block;
  }
  return -1;
}

/** Throws a named error when `bytes` (rows starting at element `firstElement` of the tensor) hold a non-finite value. */
export function assertFiniteTensor(name: string, type: GgmlType, bytes: Uint8Array, firstElement = 0): void {
  const index = firstNonFinite(type, bytes);
  if (index < 0) return;
  const perBlock = HALF_FIELDS[type] ? GGML_TYPE_LAYOUT[type].blockElements : 1;
  const element = firstElement + index * perBlock;
  throw new GgufError(
    "non_finite_weights",
    `tensor "${name}" holds a non-finite value (NaN or ±Inf) ${perBlock > 1 ? `in the ${ggmlTypeName(type)} block of elements ${element}…${element + perBlock - 1}` : `at element ${element}`}: the file is corrupt`,
  );
}
