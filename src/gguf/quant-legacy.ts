// ggml's other 32-value formats, dequantized on the CPU bit-exactly as ggml's dequantize_row_* (float32 at
// every step: a product of two floats and the sum of two floats are rounded with Math.fround).
//
// Q4_1 block (20 bytes): f16 d · f16 m · u8 qs[16]          x[j] = (qs[j] & 15)·d + m,   x[j+16] = (qs[j] >> 4)·d + m
// Q5_0 block (22 bytes): f16 d · u32 qh · u8 qs[16]          q[j] = (qs[j] & 15) | bit j of qh << 4,
//                                                           q[j+16] = (qs[j] >> 4) | bit (j+16) of qh << 4,   x = (q − 16)·d
// Q5_1 block (24 bytes): f16 d · f16 m · u32 qh · u8 qs[16]  q as in Q5_0,   x = q·d + m

import { f16ToF32 } from "./f16.js";

const fround = Math.fround;

export function dequantizeQ4_1(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < count / 32; b++) {
    const at = b * 20;
    const d = f16ToF32(view.getUint16(at, true));
    const m = f16ToF32(view.getUint16(at + 2, true));
    for (let j = 0; j < 16; j++) {
      const q = bytes[at + 4 + j]!;
      out[b * 32 + j] = fround(fround((q & 15) * d) + m);
      out[b * 32 + j + 16] = fround(fround((q >> 4) * d) + m);
    }
  }
  return out;
}

/** The 5-bit quants of a Q5_0/Q5_1 block whose qh word starts at `qhAt` (qs follow it). */
function fiveBitQuants(bytes: Uint8Array, view: DataView, qhAt: number, quants: Int32Array): void {
  const qh = view.getUint32(qhAt, true);
  for (let j = 0; j < 16; j++) {
    const q = bytes[qhAt + 4 + j]!;
    quants[j] = (q & 15) | (((qh >>> j) & 1) << 4);
    quants[j + 16] = (q >> 4) | (((qh >>> (j + 16)) & 1) << 4);
  }
}

export function dequantizeQ5_0(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const quants = new Int32Array(32);
  for (let b = 0; b < count / 32; b++) {
    const at = b * 22;
    const d = f16ToF32(view.getUint16(at, true));
    fiveBitQuants(bytes, view, at + 2, quants);
    for (let j = 0; j < 32; j++) out[b * 32 + j] = fround((quants[j]! - 16) * d);
  }
  return out;
}

export function dequantizeQ5_1(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const quants = new Int32Array(32);
  for (let b = 0; b < count / 32; b++) {
    const at = b * 24;
    const d = f16ToF32(view.getUint16(at, true));
    const m = f16ToF32(view.getUint16(at + 2, true));
    fiveBitQuants(bytes, view, at + 4, quants);
    for (let j = 0; j < 32; j++) out[b * 32 + j] = fround(fround(quants[j]! * d) + m);
  }
  return out;
}
