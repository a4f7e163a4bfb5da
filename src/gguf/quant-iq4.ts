// ggml's non-linear 4-bit formats: each nibble indexes a fixed table of 16 levels (kvalues_iq4nl), dequantized
// on the CPU bit-exactly as ggml's dequantize_row_iq4_nl / _iq4_xs.
//
// IQ4_NL block (18 B, 32 values):  f16 d @0 · qs[16] @2          x[j] = d·T[qs[j] & 15],  x[j+16] = d·T[qs[j] >> 4]
// IQ4_XS block (136 B, 256 values): f16 d @0 · u16 scales_h @2 · scales_l[4] @4 · qs[128] @8
//   8 sub-blocks of 32 with 6-bit scales: ls = (nibble (s & 1) of scales_l[s / 2]) | ((scales_h >> 2s) & 3) << 4;
//   dl = d·(ls − 32); sub-block s reads qs[16s .. 16s + 16) as IQ4_NL does.

import { f16ToF32 } from "./f16.js";

/** The 16 levels of IQ4_NL and IQ4_XS (ggml's kvalues_iq4nl). */
export const IQ4NL_LEVELS: readonly number[] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

const fround = Math.fround;

export function dequantizeIQ4_NL(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < count / 32; b++) {
    const at = b * 18;
    const d = f16ToF32(view.getUint16(at, true));
    for (let j = 0; j < 16; j++) {
      const q = bytes[at + 2 + j]!;
      out[b * 32 + j] = fround(d * IQ4NL_LEVELS[q & 15]!);
      out[b * 32 + j + 16] = fround(d * IQ4NL_LEVELS[q >> 4]!);
    }
  }
  return out;
}

export function dequantizeIQ4_XS(bytes: Uint8Array, count: number): Float32Array {
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < count / 256; b++) {
    const at = b * 136;
    const d = f16ToF32(view.getUint16(at, true));
    const scalesHigh = view.getUint16(at + 2, true);
    for (let s = 0; s < 8; s++) {
      const ls = ((bytes[at + 4 + (s >> 1)]! >> (4 * (s & 1))) & 15) | (((scalesHigh >> (2 * s)) & 3) << 4);
      const dl = fround(d * (ls - 32));
      for (let j = 0; j < 16; j++) {
        const q = bytes[at + 8 + 16 * s + j]!;
        out[b * 256 + 32 * s + j] = fround(dl * IQ4NL_LEVELS[q & 15]!);
        out[b * 256 + 32 * s + j + 16] = fround(dl * IQ4NL_LEVELS[q >> 4]!);
      }
    }
  }
  return out;
}
