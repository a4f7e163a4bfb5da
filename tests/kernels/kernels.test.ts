// Every kernel against its CPU reference (tests/kernels/reference.ts), run through its real wrapper in
// headless Chromium. Weights cover all four GPU formats; the chunked cases force tensors to be split
// across bindings the way a large model is on a 128 MiB-binding adapter.

import { describe, expect, it } from "vitest";
import { GgmlType, dequantize, quantize } from "../../src/gguf/index.js";
import { Random } from "../../src/gguf/random.js";
import { maxAbsDiff, useBrowserSession } from "../helpers/browser.js";
import { attentionCase, type AttentionCase } from "./attention-cases.js";
import { matmulRef, rmsnormRef, ropeRef, swigluRef } from "./reference.js";

const session = useBrowserSession();
const FORMATS = [GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0] as const;

function quantizedMatrix(type: GgmlType, rows: number, cols: number, seed: number) {
  const values = new Random(seed).normals(rows * cols, 0.5);
  const bytes = quantize(type, values);
  return { bytes, dequantized: dequantize(type, bytes, rows * cols) };
}

describe("matmul: y (+)= W·x with W dequantized on the fly", () => {
  const cases = FORMATS.flatMap((type) => [
    { type, rows: 96, cols: 64, numTokens: 1, tokenTile: 1, accumulate: false },
    { type, rows: 70, cols: 128, numTokens: 7, tokenTile: 4, accumulate: true },
    { type, rows: 33, cols: 96, numTokens: 5, tokenTile: 4, accumulate: false, maxChunkBytes: 1024 },
  ]);
  it.each(cases)("$type rows=$rows cols=$cols n=$numTokens tile=$tokenTile acc=$accumulate chunk=$maxChunkBytes", async (c) => {
    const w = quantizedMatrix(c.type, c.rows, c.cols, c.rows * 31 + c.type);
    const random = new Random(7);
    const x = random.normals(c.numTokens * c.cols);
    const y0 = c.accumulate ? random.normals(c.numTokens * c.rows) : undefined;
    const gpu = await session().call<Float32Array>("lab.matmul", {
      type: c.type, rows: c.rows, cols: c.cols, weight: w.bytes, x, numTokens: c.numTokens, y0, tokenTile: c.tokenTile,
      maxChunkBytes: c.maxChunkBytes,
    });
    expect(maxAbsDiff(gpu, matmulRef(w.dequantized, c.rows, c.cols, x, c.numTokens, y0))).toBeLessThan(1e-4);
  });

  it("F32 rows that are not a multiple of 32 (ffn_down of stories260K: 172)", async () => {
    const w = quantizedMatrix(GgmlType.F32, 64, 172, 3);
    const x = new Random(4).normals(3 * 172);
    const gpu = await session().call<Float32Array>("lab.matmul", { type: GgmlType.F32, rows: 64, cols: 172, weight: w.bytes, x, numTokens: 3, tokenTile: 4 });
    expect(maxAbsDiff(gpu, matmulRef(w.dequantized, 64, 172, x, 3))).toBeLessThan(1e-4);
  });

  it("names the tensor and type when a format has no kernel", async () => {
    await expect(session().call("lab.matmul", { type: GgmlType.Q4_K, rows: 1, cols: 256, weight: new Uint8Array(144), x: new Float32Array(256), numTokens: 1, tokenTile: 1 }))
      .rejects.toThrow(/Q4_K.*supported: F32, F16, Q8_0, Q4_0/);
  });
});

describe("embedding lookup", () => {
  it.each(FORMATS.map((type) => ({ type })))("$type, table split into chunks of 3 rows", async ({ type }) => {
    const rows = 20;
    const cols = 64;
    const table = quantizedMatrix(type, rows, cols, 11);
    const ids = [0, 19, 5, 3, 3, 17, 8];
    const rowBytes = table.bytes.byteLength / rows;
    const gpu = await session().call<Float32Array>("lab.embedding", { type, rows, cols, table: table.bytes, ids, maxChunkBytes: Math.ceil(rowBytes * 3) });
    const expected = ids.flatMap((id) => Array.from(table.dequantized.subarray(id * cols, (id + 1) * cols)));
    expect(maxAbsDiff(gpu, expected)).toBe(0);
  });
});

describe("rmsnorm", () => {
  it("normalizes every row", async () => {
    const random = new Random(5);
    const dim = 200;
    const x = random.normals(6 * dim, 3);
    const weight = random.normals(dim, 1, 1);
    const gpu = await session().call<Float32Array>("lab.rmsnorm", { x, weight, dim, eps: 1e-5, numTokens: 6 });
    expect(maxAbsDiff(gpu, rmsnormRef(x, weight, dim, 1e-5, [0, 1, 2, 3, 4, 5]))).toBeLessThan(1e-5);
  });

  it("gathers only the logit rows", async () => {
    const random = new Random(6);
    const dim = 64;
    const x = random.normals(9 * dim);
    const weight = random.normals(dim, 1, 1);
    const gpu = await session().call<Float32Array>("lab.rmsnorm", { x, weight, dim, eps: 1e-6, numTokens: 9, gatherRows: [8, 2, 5] });
    expect(maxAbsDiff(gpu, rmsnormRef(x, weight, dim, 1e-6, [8, 2, 5]))).toBeLessThan(1e-5);
  });
});

describe("rope", () => {
  it.each([
    { headDim: 8, ropeDim: 8, base: 10000 },
    { headDim: 64, ropeDim: 32, base: 500000 },
  ])("head_dim $headDim, rope_dim $ropeDim, base $base", async ({ headDim, ropeDim, base }) => {
    const random = new Random(headDim);
    const positions = [0, 1, 2, 17, 511, 2047, 4095];
    const q = random.normals(positions.length * 4 * headDim);
    const k = random.normals(positions.length * 2 * headDim);
    const gpu = await session().call<{ q: Float32Array; k: Float32Array }>("lab.rope", {
      q, k, positions, qHeads: 4, kvHeads: 2, headDim, ropeDim, freqBase: base,
    });
    // ggml computes angles in float32 (θ·scale repeatedly): at position 4095 that is ~1e-4 rad off the exact angle.
    expect(maxAbsDiff(gpu.q, ropeRef(q, 4, headDim, ropeDim, base, positions))).toBeLessThan(2e-3);
    expect(maxAbsDiff(gpu.k, ropeRef(k, 2, headDim, ropeDim, base, positions))).toBeLessThan(2e-3);
  });
});

describe("glu", () => {
  it("silu(gate)·up", async () => {
    const random = new Random(8);
    const gate = random.normals(5 * 172, 4);
    const up = random.normals(5 * 172);
    const gpu = await session().call<Float32Array>("lab.glu", { gate, up, ffnDim: 172, numTokens: 5 });
    expect(maxAbsDiff(gpu, swigluRef(gate, up))).toBeLessThan(1e-5);
  });
});

describe("naive attention over the paged cache", () => {
  const cases: AttentionCase[] = [
    { qHeads: 8, kvHeads: 4, headDim: 8, blockSize: 16, window: 0, seqs: [{ contextLen: 0, numNew: 23 }] },
    { qHeads: 8, kvHeads: 1, headDim: 32, blockSize: 8, window: 0, seqs: [{ contextLen: 40, numNew: 1 }] },
    { qHeads: 4, kvHeads: 4, headDim: 64, blockSize: 32, window: 0, seqs: [{ contextLen: 5, numNew: 3 }, { contextLen: 70, numNew: 1 }, { contextLen: 0, numNew: 9 }] },
    { qHeads: 8, kvHeads: 2, headDim: 16, blockSize: 16, window: 7, seqs: [{ contextLen: 30, numNew: 4 }, { contextLen: 0, numNew: 12 }] },
  ];
  it.each(cases.map((c, i) => ({ ...c, i })))("case $i: $qHeads/$kvHeads heads, d=$headDim, block $blockSize, window $window", async (c) => {
    const { request, expected } = attentionCase(c, 100 + c.i);
    const { out: gpu } = await session().call<{ out: Float32Array }>("lab.attention", { kind: "naive", ...request });
    expect(maxAbsDiff(gpu, expected)).toBeLessThan(1e-4);
  });
});
