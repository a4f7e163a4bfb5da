// ggml's K-quants: super-blocks of 256 values with quantized sub-block scales, dequantized on the CPU
// bit-exactly as ggml's dequantize_row_q{2..6}_K (float32 at every step, rounded with Math.fround).
// Byte offsets within one super-block; "value v of sub-block s" runs over the 256 outputs in order.
//
// Q2_K (84 B):  scales[16] @0 · qs[64] @16 · f16 d @80 · f16 dmin @82
//   16 sub-blocks of 16. Value i = 128n + 32j + 16h + l (n<2, j<4, h<2, l<16): q = (qs[32n + 16h + l] >> 2j) & 3,
//   sc = scales[i / 16]:  x = (d·(sc & 15))·q − dmin·(sc >> 4)
// Q3_K (110 B): hmask[32] @0 · qs[64] @32 · scales[12] @96 · f16 d @108
//   Value i = 128n + 32j + l (l<32): q = ((qs[32n + l] >> 2j) & 3) − (bit (4n + j) of hmask[l] ? 0 : 4);
//   16 six-bit scales s[k]: low 4 bits from scales[k % 8] (low nibble for k < 8, high nibble after),
//   high 2 bits from scales[8 + k % 4] >> 2·(k / 4);   x = (d·(s[i / 16] − 32))·q
// Q4_K (144 B): f16 d @0 · f16 dmin @2 · scales[12] @4 · qs[128] @16
//   8 sub-blocks of 32 with 6-bit (scale, min) pairs (scaleMinK4). Value i = 64c + 32h + l: q = qs[32c + l]
//   nibble h (low first);  x = (d·sc[2c + h])·q − dmin·m[2c + h]
// Q5_K (176 B): f16 d @0 · f16 dmin @2 · scales[12] @4 · qh[32] @16 · qs[128] @48
//   as Q4_K with a fifth bit: q += 16 when bit (2c + h) of qh[l] is set
// Q6_K (210 B): ql[128] @0 · qh[64] @128 · int8 scales[16] @192 · f16 d @208
//   Value i = 128n + 32g + l: q = (nibble (g >> 1) of ql[64n + 32(g & 1) + l]) | ((qh[32n + l] >> 2g) & 3) << 4, − 32;
//   x = (d·scales[8n + 2g + l / 16])·q

import { f16ToF32 } from "./f16.js";

export const QK_K = 256;
const fround = Math.fround;

/** Sub-block j's 6-bit scale and min from the 12 packed bytes at `at` (ggml's get_scale_min_k4). */
function scaleMinK4(bytes: Uint8Array, at: number, j: number): [number, number] {
  if (j < 4) return [bytes[at + j]! & 63, bytes[at + j + 4]! & 63];
  const scale = (bytes[at + j + 4]! & 15) | ((bytes[at + j - 4]! >> 6) << 4);
  const min = (bytes[at + j + 4]! >> 4) | ((bytes[at + j]! >> 6) << 4);
  return [scale, min];
}

export function dequantizeQ2_K(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < count / QK_K; b++) {
    const at = b * 84;
    const d = f16ToF32(view.getUint16(at + 80, true));
    const dmin = f16ToF32(view.getUint16(at + 82, true));
    for (let i = 0; i < QK_K; i++) {
      const n = i >> 7;
      const j = (i >> 5) & 3;
      const within = i & 31; // 16h + l
      const q = (bytes[at + 16 + 32 * n + within]! >> (2 * j)) & 3;
      const sc = bytes[at + (i >> 4)]!;
      const dl = fround(d * (sc & 15));
      const ml = fround(dmin * (sc >> 4));
      out[b * QK_K + i] = fround(fround(dl * q) - ml);
    }
  }
  return out;
}

/** The 16 six-bit scales of a Q3_K block (before the −32 offset). */
function q3kScales(bytes: Uint8Array, at: number): Int32Array {
  const scales = new Int32Array(16);
  for (let k = 0; k < 16; k++) {
    const source = bytes[at + (k % 8)]!;
    const low = k < 8 ? source & 15 : source >> 4;
    const high = (bytes[at + 8 + (k % 4)]! >> (2 * (k >> 2))) & 3;
    scales[k] = low | (high << 4);
  }
  return scales;
}

export function dequantizeQ3_K(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < count / QK_K; b++) {
    const at = b * 110;
    const d = f16ToF32(view.getUint16(at + 108, true));
    const scales = q3kScales(bytes, at + 96);
    for (let i = 0; i < QK_K; i++) {
      const n = i >> 7;
      const j = (i >> 5) & 3;
      const l = i & 31;
      const low = (bytes[at + 32 + 32 * n + l]! >> (2 * j)) & 3;
      const high = (bytes[at + l]! >> (4 * n + j)) & 1;
      const dl = fround(d * (scales[i >> 4]! - 32));
      out[b * QK_K + i] = fround(dl * (low - (high ? 0 : 4)));
    }
  }
  return out;
}

/** Q4_K and Q5_K share everything but the fifth bit (qhAt: where qh starts, or −1 for Q4_K). */
function dequantizeQ45K(bytes: Uint8Array, count: number, blockBytes: number, qhAt: number, qsAt: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < count / QK_K; b++) {
    const at = b * blockBytes;
    const d = f16ToF32(view.getUint16(at, true));
    const dmin = f16ToF32(view.getUint16(at + 2, true));
    for (let s = 0; s < 8; s++) {
      const [sc, m] = scaleMinK4(bytes, at + 4, s);
      const ds = fround(d * sc);
      const ms = fround(dmin * m);
      const c = s >> 1;
      const shift = 4 * (s & 1);
      for (let l = 0; l < 32; l++) {
        let q = (bytes[at + qsAt + 32 * c + l]! >> shift) & 15;
        if (qhAt >= 0 && (bytes[at + qhAt + l]! >> s) & 1) q += 16;
        out[b * QK_K + 32 * s + l] = fround(fround(ds * q) - ms);
      }
    }
  }
  return out;
}

export function dequantizeQ4_K(bytes: Uint8Array, count: number): Float32Array {
  return dequantizeQ45K(bytes, count, 144, -1, 16);
}

export function dequantizeQ5_K(bytes: Uint8Array, count: number): Float32Array {
  return dequantizeQ45K(bytes, count, 176, 16, 48);
}

export function dequantizeQ6_K(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < count / QK_K; b++) {
    const at = b * 210;
    const d = f16ToF32(view.getUint16(at + 208, true));
    for (let i = 0; i < QK_K; i++) {
      const n = i >> 7;
      const g = (i >> 5) & 3;
      const l = i & 31;
      const lowByte = bytes[at + 64 * n + 32 * (g & 1) + l]!;
      const low = (g >> 1 ? lowByte >> 4 : lowByte) & 15;
      const high = (bytes[at + 128 + 32 * n + l]! >> (2 * g)) & 3;
      const q = (low | (high << 4)) - 32;
      const sc = view.getInt8(at + 192 + 8 * n + 2 * g + (l >> 4));
      out[b * QK_K + i] = fround(fround(d * sc) * q);
    }
  }
  return out;
}
