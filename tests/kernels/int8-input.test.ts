// Int8 inputs (SwiftShader's default for Q8_0 and Q4_0 weights): shaders/quantize_x.wgsl quantizes a matmul's
// input to int8 blocks — bit for bit as the CPU reference does — and the rows matmul multiplies int8 weights by
// them with dot4I8Packed (or, weights read in place, unpacks them to f32 once a block: the same result bit for
// bit), equal to the CPU's int8-input product; the quantization itself moves the result from the f32 product by no
// more than its rounding allows.

import { describe, expect, it } from "vitest";
import { GgmlType, dequantize, ggmlTypeName, quantize } from "../../src/gguf/index.js";
import { Random } from "../../src/gguf/random.js";
import { maxAbsDiff, useBrowserSession } from "../helpers/browser.js";
import { matmulInt8InputRef, matmulRef, quantizeXRef } from "./reference.js";

const session = useBrowserSession();

function relativeError(gpu: ArrayLike<number>, cpu: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < cpu.length; i++) scale = Math.max(scale, Math.abs(cpu[i]!));
  return maxAbsDiff(gpu, cpu) / Math.max(scale, 1e-30);
}

describe("quantize_x: a matmul input as int8 blocks", () => {
  it("equals the CPU quantizer word for word: values, scales, sums; a zero block; ties round to even", async () => {
    const cols = 96; // 3 blocks: a token's 30 words pad to 32
    const n = 5;
    const x = new Random(3).normals(n * cols, 2);
    x.fill(0, 32, 64); // token 0, block 1: all zero (d = 0)
    // token 1, block 0: max 127 so d = 1, and halves that round to even
    x.set([127, 2.5, -2.5, 3.5, -3.5, 0.5, -0.5, 1.5], cols);
    const words = await session().call<Uint32Array>("lab.quantizeX", { x, cols, numTokens: n });
    const ref = quantizeXRef(x, cols, n);
    const stride = 32;
    expect(words.length).toBe(n * stride);
    for (let t = 0; t < n; t++) {
      const row = words.subarray(t * stride, (t + 1) * stride);
      const values = new Int8Array(row.buffer.slice(row.byteOffset, row.byteOffset + cols));
      expect(Array.from(values)).toEqual(Array.from(ref.q.subarray(t * cols, (t + 1) * cols)));
      expect(Array.from(new Float32Array(row.buffer.slice(row.byteOffset + cols, row.byteOffset + cols + 12)))).toEqual(Array.from(ref.d.subarray(t * 3, t * 3 + 3)));
      expect(Array.from(new Int32Array(row.buffer.slice(row.byteOffset + cols + 12, row.byteOffset + cols + 24)))).toEqual(Array.from(ref.sums.subarray(t * 3, t * 3 + 3)));
    }
    expect(Array.from(ref.q.subarray(cols, cols + 8))).toEqual([127, 2, -2, 4, -4, 0, 0, 2]);
    expect(ref.d[1]).toBe(0);
  });
});

describe("rows matmul with int8 inputs (dot4I8Packed), forced for every shape of the rows kernel", () => {
  const shapes = [
    { kernel: { kind: "rows", rowsPerInvocation: 4 }, numTokens: 1, tokenTile: 1, rows: 37, accumulate: false, chunkRows: 0 },
    { kernel: { kind: "rows", rowsPerInvocation: 8 }, numTokens: 1, tokenTile: 1, rows: 37, accumulate: false, chunkRows: 0 },
    { kernel: { kind: "rows", rowsPerInvocation: 4 }, numTokens: 7, tokenTile: 4, rows: 70, accumulate: true, chunkRows: 16 }, // a partial last tile
    { kernel: { kind: "rows", rowsPerInvocation: 8 }, numTokens: 7, tokenTile: 4, rows: 70, accumulate: true, chunkRows: 16 },
    // the kernel's own shape where the input is int8 (SwiftShader's decode: 8 rows, 8 invocations; the 4-row kernel
    // around it): 64 rows a workgroup, so 100 leave a partial one
    { kernel: { kind: "rows", rowsPerInvocation: 4, int8Input: { rowsPerInvocation: 8, invocations: 8 } }, numTokens: 1, tokenTile: 1, rows: 100, accumulate: false, chunkRows: 0 },
    { kernel: { kind: "rows", rowsPerInvocation: 8, int8Input: { rowsPerInvocation: 4, invocations: 16 } }, numTokens: 1, tokenTile: 1, rows: 100, accumulate: false, chunkRows: 0 },
  ] as const;
  const cases = [GgmlType.Q8_0, GgmlType.Q4_0].flatMap((type) => shapes.map((s) => ({
    ...s, type,
    name: `${ggmlTypeName(type)}${"int8Input" in s.kernel ? `, int8 ${s.kernel.int8Input.rowsPerInvocation} rows × ${s.kernel.int8Input.invocations}` : ""}`,
  })));
  it.each(cases)("$name $kernel.rowsPerInvocation rows/invocation, n=$numTokens tile=$tokenTile, rows=$rows acc=$accumulate chunk rows=$chunkRows", async (c) => {
    const cols = 160;
    const values = new Random(51 + c.type).normals(c.rows * cols, 0.5);
    const weight = quantize(c.type, values);
    const w = dequantize(c.type, weight, c.rows * cols);
    const random = new Random(17);
    const x = random.normals(c.numTokens * cols);
    const y0 = c.accumulate ? random.normals(c.numTokens * c.rows) : undefined;
    const rowBytes = (cols / 32) * (c.type === GgmlType.Q8_0 ? 34 : 18);
    const gpu = await session().call<Float32Array>("lab.matmul", {
      type: c.type, rows: c.rows, cols, weight, x, numTokens: c.numTokens, y0, tokenTile: c.tokenTile, kernel: c.kernel, int8Input: true,
      maxChunkBytes: c.chunkRows ? c.chunkRows * rowBytes : undefined,
    });
    // the int8 product exactly as defined (integer block sums, one scale each), within f32 rounding
    expect(relativeError(gpu, matmulInt8InputRef(w, c.rows, cols, x, c.numTokens, y0))).toBeLessThan(1e-5);
    // and the f32 product within what quantizing x costs (half a step of 1/127 of each block's largest value)
    const f32 = matmulRef(w, c.rows, cols, x, c.numTokens, y0);
    const off = relativeError(gpu, f32);
    expect(off).toBeGreaterThan(0);
    expect(off).toBeLessThan(2e-2);
  });

  // Weights read in place (SwiftShader's default): the int8 block unpacked to f32 once for the invocation's rows.
  // Its products and block sums are integers below 2^24, so the result is dot4I8Packed's bit for bit.
  it.each(cases)("$name in place $kernel.rowsPerInvocation rows/invocation, n=$numTokens tile=$tokenTile: dot4I8Packed's result bit for bit", async (c) => {
    const cols = 160;
    const values = new Random(71 + c.type).normals(c.rows * cols, 0.5);
    const weight = quantize(c.type, values);
    const random = new Random(23);
    const x = Float32Array.from(random.normals(c.numTokens * cols), (v) => v + 2); // a mean far from 0: large offsets
    const y0 = c.accumulate ? random.normals(c.numTokens * c.rows) : undefined;
    const rowBytes = (cols / 32) * (c.type === GgmlType.Q8_0 ? 34 : 18);
    const run = (bytesInPlace: boolean) => session().call<Float32Array>("lab.matmul", {
      type: c.type, rows: c.rows, cols, weight, x, numTokens: c.numTokens, y0, tokenTile: c.tokenTile, kernel: { ...c.kernel, bytesInPlace }, int8Input: true,
      maxChunkBytes: c.chunkRows ? c.chunkRows * rowBytes : undefined,
    });
    const inPlace = await run(true);
    expect(Array.from(inPlace)).toEqual(Array.from(await run(false)));
    const w = dequantize(c.type, weight, c.rows * cols);
    expect(relativeError(inPlace, matmulInt8InputRef(w, c.rows, cols, x, c.numTokens, y0))).toBeLessThan(1e-5);
  });

  it("is refused where it does not apply: float weights, a folded norm", async () => {
    const cols = 64;
    const x = new Random(1).normals(cols);
    const f32 = quantize(GgmlType.F32, new Random(2).normals(8 * cols));
    await expect(session().call("lab.matmul", { type: GgmlType.F32, rows: 8, cols, weight: f32, x, numTokens: 1, tokenTile: 1, kernel: { kind: "rows", rowsPerInvocation: 4 }, int8Input: true }))
      .rejects.toThrow(/int8 input needs the rows kernel with Q8_0 or Q4_0 rows/);
    const q8 = quantize(GgmlType.Q8_0, new Random(2).normals(8 * cols));
    await expect(session().call("lab.matmul", {
      type: GgmlType.Q8_0, rows: 8, cols, weight: q8, x, numTokens: 1, tokenTile: 1, kernel: { kind: "rows", rowsPerInvocation: 4 }, int8Input: true,
      norm: { weight: new Random(3).normals(cols), eps: 1e-5 },
    })).rejects.toThrow(/cannot be folded/);
  });
});
