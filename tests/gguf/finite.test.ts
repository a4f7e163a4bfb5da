// Non-finite weights found without dequantizing: float values directly, quantized blocks by their f16 scale
// and min fields — for every type webkv reads, a NaN or ±Inf planted in one block is found at that block.

import { describe, expect, it } from "vitest";
import { GgufError } from "../../src/gguf/errors.js";
import { assertFiniteTensor, firstNonFinite } from "../../src/gguf/finite.js";
import { quantize } from "../../src/gguf/index.js";
import { Random } from "../../src/gguf/random.js";
import { GGML_TYPE_LAYOUT, GgmlType } from "../../src/gguf/types.js";

const HALF_NAN = 0x7e00;
const HALF_INF = 0x7c00;

describe("firstNonFinite", () => {
  it("F32, F16 and BF16: the first NaN or ±Inf value", () => {
    const f32 = new Float32Array([1, 2, -3, Infinity, NaN]);
    expect(firstNonFinite(GgmlType.F32, new Uint8Array(f32.buffer))).toBe(3);
    expect(firstNonFinite(GgmlType.F32, new Uint8Array(new Float32Array([1e38, -1e-40]).buffer))).toBe(-1);
    expect(firstNonFinite(GgmlType.F16, new Uint8Array(new Uint16Array([0x3c00, 0xfbff, HALF_INF | 0x8000]).buffer))).toBe(2);
    expect(firstNonFinite(GgmlType.BF16, new Uint8Array(new Uint16Array([0x3f80, 0x7fc0]).buffer))).toBe(1);
  });

  // Byte offsets of each type's f16 fields, as ggml-common.h lays the blocks out.
  const fields: [GgmlType, number[]][] = [
    [GgmlType.Q4_0, [0]], [GgmlType.Q4_1, [0, 2]], [GgmlType.Q5_0, [0]], [GgmlType.Q5_1, [0, 2]], [GgmlType.Q8_0, [0]],
    [GgmlType.Q2_K, [80, 82]], [GgmlType.Q3_K, [108]], [GgmlType.Q4_K, [0, 2]], [GgmlType.Q5_K, [0, 2]], [GgmlType.Q6_K, [208]],
    [GgmlType.IQ4_NL, [0]], [GgmlType.IQ4_XS, [0]],
  ];
  it.each(fields)("type %i: a NaN or Inf in any f16 field of block 3 is found at block 3", (type, offsets) => {
    const blockBytes = GGML_TYPE_LAYOUT[type].blockBytes;
    for (const offset of offsets) {
      for (const bad of [HALF_NAN, HALF_INF]) {
        const bytes = new Uint8Array(blockBytes * 5); // all-zero blocks: finite
        expect(firstNonFinite(type, bytes)).toBe(-1);
        new DataView(bytes.buffer).setUint16(3 * blockBytes + offset, bad, true);
        expect(firstNonFinite(type, bytes)).toBe(3);
      }
    }
  });

  it("a real quantized tensor is finite; the error names the tensor and the elements", () => {
    const bytes = quantize(GgmlType.Q8_0, new Random(1).normals(32 * 8));
    expect(firstNonFinite(GgmlType.Q8_0, bytes)).toBe(-1);
    new DataView(bytes.buffer, bytes.byteOffset).setUint16(34 * 2, HALF_NAN, true);
    let error: unknown;
    try {
      assertFiniteTensor("blk.0.attn_q.weight", GgmlType.Q8_0, bytes, 1024);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GgufError);
    expect((error as GgufError).code).toBe("non_finite_weights");
    expect((error as GgufError).message).toBe('tensor "blk.0.attn_q.weight" holds a non-finite value (NaN or ±Inf) in the Q8_0 block of elements 1088…1119: the file is corrupt');
  });
});
