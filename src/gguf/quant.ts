// ggml's tensor formats on the CPU: f16/bf16 conversion, dequantization and the reference quantizers
// (quantize_row_q8_0_ref, quantize_row_q4_0_ref). C computes these in float32; every step here is rounded
// with Math.fround so results are bit-identical to ggml's.
//
// Q8_0 block (34 bytes, 32 values): f16 d · int8 qs[32]            x[j] = qs[j]·d
// Q4_0 block (18 bytes, 32 values): f16 d · u8 qs[16] (two nibbles) x[j] = ((qs[j] & 15) − 8)·d,
//                                                                   x[j+16] = ((qs[j] >> 4) − 8)·d

import { GgufError } from "./errors.js";
import { GgmlType, ggmlTypeName } from "./types.js";

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** float32 → IEEE half, round to nearest even (what F16C and ggml's fallback both do). */
export function f32ToF16(value: number): number {
  f32Scratch[0] = value;
  const bits = u32Scratch[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // inf / nan
  let halfExponent = exponent - 127 + 15;
  if (halfExponent >= 31) return sign | 0x7c00; // overflow → inf
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign; // underflow → ±0
    mantissa |= 0x800000; // implicit leading one
    const shift = 14 - halfExponent;
    const halfway = 1 << (shift - 1);
    const rest = mantissa & ((1 << shift) - 1);
    let result = mantissa >>> shift;
    if (rest > halfway || (rest === halfway && (result & 1))) result++;
    return sign | result;
  }
  let result = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (result & 1))) result++; // may carry into the exponent: correct
  return sign | result;
}

export function bf16ToF32(h: number): number {
  u32Scratch[0] = h << 16;
  return f32Scratch[0]!;
}

/** float32 → bf16, round to nearest even (ggml_compute_fp32_to_bf16). */
export function f32ToBf16(value: number): number {
  f32Scratch[0] = value;
  const bits = u32Scratch[0]!;
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 64) & 0xffff; // quiet nan
  return ((bits + (0x7fff + ((bits >>> 16) & 1))) >>> 16) & 0xffff;
}

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

/** Any supported tensor type → float32 values (ggml's dequantize_row_* definitions). */
export function dequantize(type: GgmlType, bytes: Uint8Array, count: number): Float32Array {
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
    case GgmlType.Q8_0:
      return dequantizeQ8_0(bytes, count);
    case GgmlType.Q4_0:
      return dequantizeQ4_0(bytes, count);
    default:
      throw new GgufError("unsupported_tensor_type", `cannot dequantize ${ggmlTypeName(type)} (supported: F32, F16, BF16, Q8_0, Q4_0)`);
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
