// ggml's tensor formats on the CPU: f16/bf16 conversion, dequantization and the reference quantizers
// (quantize_row_q8_0_ref, quantize_row_q4_0_ref). `dequantize` is the entry point for every format webkv
// reads; the other formats live one idea per file: quant-legacy.ts (Q4_1, Q5_0, Q5_1), quant-k.ts (Q2_K..Q6_K),
// quant-iq4.ts (IQ4_NL, IQ4_XS), f16.ts (half and bfloat16). C computes these in float32; every step here is rounded
// with Math.fround so results are bit-identical to ggml's.
//
// Q8_0 block (34 bytes, 32 values): f16 d · int8 qs[32]            x[j] = qs[j]·d
// Q4_0 block (18 bytes, 32 values): f16 d · u8 qs[16] (two nibbles) x[j] = ((qs[j] & 15) − 8)·d,
//                                                                   x[j+16] = ((qs[j] >> 4) − 8)·d

import { GgufError } from "./errors.js";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from "./f16.js";
import { dequantizeIQ4_NL, dequantizeIQ4_XS } from "./quant-iq4.js";
import { dequantizeQ2_K, dequantizeQ3_K, dequantizeQ4_K, dequantizeQ5_K, dequantizeQ6_K } from "./quant-k.js";
import { dequantizeQ4_1, dequantizeQ5_0, dequantizeQ5_1 } from "./quant-legacy.js";
import { GGML_TYPE_LAYOUT, GgmlType, ggmlTypeName } from "./types.js";

export { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 };

export const QK8_0 = 32;
export const QK4_0 = 32;
const fround = Math.fround;

/** C's roundf: halves away from zero. */
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

export function quantizeQ8_0(values: Float32Array): Uint8Array {
  if (values.length % QK8_0 !== 0) throw new Error(`Q8_0 needs a multiple of ${QK8_0} values, got ${values.length}`);
  const blocks = values.length / QK8_0;
  const out = new Uint8Array(blocks * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    for (let j = 0; j < QK8_0; j++) amax = Math.max(amax, Math.abs(values[b * QK8_0 + j]!));
    const d = fround(amax / 127);
    const id = d ? fround(1 / d) : 0;
    view.setUint16(b * 34, f32ToF16(d), true);
    for (let j = 0; j < QK8_0; j++) {
      view.setInt8(b * 34 + 2 + j, roundHalfAway(fround(values[b * QK8_0 + j]! * id)));
    }
  }
  return out;
}

export function quantizeQ4_0(values: Float32Array): Uint8Array {
  if (values.length % QK4_0 !== 0) throw new Error(`Q4_0 needs a multiple of ${QK4_0} values, got ${values.length}`);
  const blocks = values.length / QK4_0;
  const out = new Uint8Array(blocks * 18);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK4_0; j++) {
      const v = values[b * QK4_0 + j]!;
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = fround(max / -8);
    const id = d ? fround(1 / d) : 0;
    view.setUint16(b * 18, f32ToF16(d), true);
    for (let j = 0; j < QK4_0 / 2; j++) {
      const x0 = fround(values[b * QK4_0 + j]! * id);
      const x1 = fround(values[b * QK4_0 + QK4_0 / 2 + j]! * id);
      // (int8_t)(x + 8.5f) truncates toward zero; MIN(15, …)
      const xi0 = Math.min(15, Math.trunc(fround(x0 + 8.5)));
      const xi1 = Math.min(15, Math.trunc(fround(x1 + 8.5)));
      out[b * 18 + 2 + j] = (xi0 & 0xff) | ((xi1 << 4) & 0xff);
    }
  }
  return out;
}

export function dequantizeQ8_0(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < count / QK8_0; b++) {
    const d = f16ToF32(view.getUint16(b * 34, true));
    for (let j = 0; j < QK8_0; j++) out[b * QK8_0 + j] = view.getInt8(b * 34 + 2 + j) * d;
  }
  return out;
}

export function dequantizeQ4_0(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < count / QK4_0; b++) {
    const d = f16ToF32(view.getUint16(b * 18, true));
    for (let j = 0; j < QK4_0 / 2; j++) {
      const q = bytes[b * 18 + 2 + j]!;
      out[b * QK4_0 + j] = ((q & 15) - 8) * d;
      out[b * QK4_0 + j + 16] = ((q >> 4) - 8) * d;
    }
  }
  return out;
}

/** Types `dequantize` reads, in ggml's numbering. */
export const DEQUANTIZABLE_TYPES: readonly GgmlType[] = [
  GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1,
  GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_NL, GgmlType.IQ4_XS,
];

const BLOCK_DEQUANTIZERS: Partial<Record<GgmlType, (bytes: Uint8Array, count: number) => Float32Array>> = {
  [GgmlType.Q8_0]: dequantizeQ8_0,
  [GgmlType.Q4_0]: dequantizeQ4_0,
  [GgmlType.Q4_1]: dequantizeQ4_1,
  [GgmlType.Q5_0]: dequantizeQ5_0,
  [GgmlType.Q5_1]: dequantizeQ5_1,
  [GgmlType.Q2_K]: dequantizeQ2_K,
  [GgmlType.Q3_K]: dequantizeQ3_K,
  [GgmlType.Q4_K]: dequantizeQ4_K,
  [GgmlType.Q5_K]: dequantizeQ5_K,
  [GgmlType.Q6_K]: dequantizeQ6_K,
  [GgmlType.IQ4_NL]: dequantizeIQ4_NL,
  [GgmlType.IQ4_XS]: dequantizeIQ4_XS,
};

/**
 * Any supported tensor type → float32 values (ggml's dequantize_row_* definitions). `count` must be a whole
 * number of blocks and `bytes` must hold them all: a short buffer is a "truncated" error, not a silent read
 * past the end.
 */
export function dequantize(type: GgmlType, bytes: Uint8Array, count: number): Float32Array {
  if (!DEQUANTIZABLE_TYPES.includes(type)) {
    throw new GgufError(
      "unsupported_tensor_type",
      `cannot dequantize ${ggmlTypeName(type)} (supported: ${DEQUANTIZABLE_TYPES.map(ggmlTypeName).join(", ")})`,
    );
  }
  const { blockElements, blockBytes } = GGML_TYPE_LAYOUT[type];
  if (!Number.isInteger(count) || count < 0 || count % blockElements !== 0) {
    throw new GgufError("shape_mismatch", `${ggmlTypeName(type)} holds blocks of ${blockElements} values; ${count} values is not a whole number of blocks`);
  }
  const needed = (count / blockElements) * blockBytes;
  if (bytes.byteLength < needed) {
    throw new GgufError(
      "truncated",
      `${ggmlTypeName(type)} data truncated: ${count} values need ${needed} bytes (${count / blockElements} blocks of ${blockBytes}), got ${bytes.byteLength}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type) {
    case GgmlType.F32: {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case GgmlType.F16: {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = f16ToF32(view.getUint16(i * 2, true));
      return out;
    }
    case GgmlType.BF16: {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = bf16ToF32(view.getUint16(i * 2, true));
      return out;
    }
    default:
      return BLOCK_DEQUANTIZERS[type]!(bytes, count);
  }
}

/** float32 values → bytes of `type` (ggml's reference quantizers). */
export function quantize(type: GgmlType, values: Float32Array): Uint8Array {
  switch (type) {
    case GgmlType.F32:
      return new Uint8Array(values.slice().buffer);
    case GgmlType.F16: {
      const out = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = f32ToF16(values[i]!);
      return new Uint8Array(out.buffer);
    }
    case GgmlType.BF16: {
      const out = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = f32ToBf16(values[i]!);
      return new Uint8Array(out.buffer);
    }
    case GgmlType.Q8_0:
      return quantizeQ8_0(values);
    case GgmlType.Q4_0:
      return quantizeQ4_0(values);
    default:
      throw new GgufError("unsupported_tensor_type", `cannot quantize to ${ggmlTypeName(type)} (supported: F32, F16, BF16, Q8_0, Q4_0)`);
  }
}
