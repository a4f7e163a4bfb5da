// ggml's formats bit for bit: our reference quantizers re-create the shared Q8_0/Q4_0 files exactly
// from the F32 weights, and f16 conversion rounds to nearest even at every boundary.

import { describe, expect, it } from "vitest";
import { fileSource } from "../../src/gguf/node-source.js";
import {
  GgmlType,
  dequantize,
  f16ToF32,
  f32ToF16,
  quantize,
  readGgufHeader,
  readTensorBytes,
} from "../../src/gguf/index.js";
import { modelPath } from "../helpers/env.js";

describe("f16 conversion", () => {
  it("round-trips every finite half exactly", () => {
    for (let h = 0; h < 0x10000; h++) {
      const exponent = (h >> 10) & 0x1f;
      if (exponent === 31) continue;
      expect(f32ToF16(f16ToF32(h))).toBe(h === 0x8000 ? 0x8000 : h);
    }
  });

  it("rounds halfway cases to even, overflows to inf, underflows to zero", () => {
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie → even (1.0)
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(f32ToF16(65520)).toBe(0x7c00);
    expect(f32ToF16(2 ** -26)).toBe(0);
    expect(f32ToF16(3 * 2 ** -26)).toBe(1); // above half the smallest subnormal
    expect(f32ToF16(-2)).toBe(0xc000);
  });
});

describe("reference quantizers", () => {
  for (const [file, type] of [
    ["stories260K-q8_0.gguf", GgmlType.Q8_0],
    ["stories260K-q4_0.gguf", GgmlType.Q4_0],
  ] as const) {
    it(`re-quantizing the F32 model reproduces ${file} byte for byte`, async () => {
      const f32Source = await fileSource(modelPath("stories260K.gguf"));
      const quantSource = await fileSource(modelPath(file));
      const f32Header = await readGgufHeader(f32Source);
      const quantHeader = await readGgufHeader(quantSource);
      let quantizedTensors = 0;
      for (const tensor of quantHeader.tensors) {
        const original = f32Header.tensorByName.get(tensor.name)!;
        expect(original.dims).toEqual(tensor.dims);
        const values = dequantize(GgmlType.F32, await readTensorBytes(f32Source, original), original.elementCount);
        const expected = await readTensorBytes(quantSource, tensor);
        const ours = quantize(tensor.type, values);
        expect(Buffer.from(ours).equals(Buffer.from(expected)), tensor.name).toBe(true);
        if (tensor.type === type) quantizedTensors++;
      }
      expect(quantizedTensors).toBeGreaterThan(30);
      await f32Source.close?.();
      await quantSource.close?.();
    });
  }
});
