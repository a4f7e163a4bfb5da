// Every kernel against its CPU reference (tests/kernels/reference.ts), run through its real wrapper in
// headless Chromium. Weights cover every GPU weight format: ours (F32, F16, BF16, Q8_0, Q4_0 from our reference
// quantizers) and the rest quantized by ggml itself (tests/reference/ggml-quants.ts), each compared with our
// bit-exact CPU dequantization; the chunked cases force tensors to be split across bindings the way a large
// model is on a 128 MiB-binding adapter.

import { afterAll, describe, expect, it } from "vitest";
import { GGML_TYPE_LAYOUT, GgmlType, dequantize, ggmlTypeName, quantize } from "../../src/gguf/index.js";
import { Random } from "../../src/gguf/random.js";
import { GPU_WEIGHT_TYPES, weightRowBytes } from "../../src/model/weight-layout.js";
import { maxAbsDiff, useBrowserSession } from "../helpers/browser.js";
import { ggmlQuantize } from "../reference/ggml-quants.js";
import { attentionCase, type AttentionCase } from "./attention-cases.js";
import { matmulRef, rmsnormRef, ropeRef, swigluRef } from "./reference.js";

const session = useBrowserSession();
const FORMATS = GPU_WEIGHT_TYPES;
const OUR_QUANTIZERS: readonly GgmlType[] = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0];
const MAX_RELATIVE_ERROR = 1e-4;

function quantizedMatrix(type: GgmlType, rows: number, cols: number, seed: number) {
  const values = new Random(seed).normals(rows * cols, 0.5);
  const bytes = OUR_QUANTIZERS.includes(type) ? quantize(type, values) : ggmlQuantize(type, values, rows, cols);
  return { bytes, dequantized: dequantize(type, bytes, rows * cols) };
}

/** max |gpu − cpu| / max |cpu|. */
function relativeError(gpu: ArrayLike<number>, cpu: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < cpu.length; i++) scale = Math.max(scale, Math.abs(cpu[i]!));
  return maxAbsDiff(gpu, cpu) / Math.max(scale, 1e-30);
}

/** Row lengths per case: 256-value super-block formats need multiples of 256. */
const colsFor = (type: GgmlType, small: number, large: number) => (GGML_TYPE_LAYOUT[type].blockElements === 256 ? large : small);

const worstMatmul = new Map<string, number>();
const worstEmbedding = new Map<string, number>();
afterAll(() => {
  const rows = FORMATS.map((t) => `${ggmlTypeName(t).padEnd(7)} matmul ${(worstMatmul.get(ggmlTypeName(t)) ?? NaN).toExponential(2)}` +
    `  embedding ${(worstEmbedding.get(ggmlTypeName(t)) ?? NaN).toExponential(2)}`);
  console.log(`max relative error, GPU vs CPU dequantization:\n${rows.join("\n")}`);
});

describe("matmul: y (+)= W·x with W dequantized on the fly", () => {
  const cases = FORMATS.flatMap((type) => [
    { type, name: ggmlTypeName(type), rows: 96, cols: colsFor(type, 64, 256), numTokens: 1, tokenTile: 1, accumulate: false },
    { type, name: ggmlTypeName(type), rows: 70, cols: colsFor(type, 128, 512), numTokens: 7, tokenTile: 4, accumulate: true },
    { type, name: ggmlTypeName(type), rows: 33, cols: colsFor(type, 96, 256), numTokens: 5, tokenTile: 4, accumulate: false, chunkRows: 4 },
  ]);
  it.each(cases)("$name rows=$rows cols=$cols n=$numTokens tile=$tokenTile acc=$accumulate chunk rows=$chunkRows", async (c) => {
    const w = quantizedMatrix(c.type, c.rows, c.cols, c.rows * 31 + c.type);
    const random = new Random(7);
    const x = random.normals(c.numTokens * c.cols);
    const y0 = c.accumulate ? random.normals(c.numTokens * c.rows) : undefined;
    const row = weightRowBytes(c.type as (typeof FORMATS)[number], c.cols);
    const maxChunkBytes = c.chunkRows ? c.chunkRows * Math.max(row.data, row.scales + 2) : undefined;
    const gpu = await session().call<Float32Array>("lab.matmul", {
      type: c.type, rows: c.rows, cols: c.cols, weight: w.bytes, x, numTokens: c.numTokens, y0, tokenTile: c.tokenTile, maxChunkBytes,
    });
    const error = relativeError(gpu, matmulRef(w.dequantized, c.rows, c.cols, x, c.numTokens, y0));
    worstMatmul.set(c.name, Math.max(worstMatmul.get(c.name) ?? 0, error));
    expect(error).toBeLessThan(MAX_RELATIVE_ERROR);
  });

  it.each([GgmlType.F32, GgmlType.F16, GgmlType.BF16].map((type) => ({ type, name: ggmlTypeName(type) })))(
    "$name rows that are not a multiple of 32 (ffn_down of stories260K: 172)",
    async ({ type }) => {
      const w = quantizedMatrix(type, 64, 172, 3);
      const x = new Random(4).normals(3 * 172);
      const gpu = await session().call<Float32Array>("lab.matmul", { type, rows: 64, cols: 172, weight: w.bytes, x, numTokens: 3, tokenTile: 4 });
      expect(relativeError(gpu, matmulRef(w.dequantized, 64, 172, x, 3))).toBeLessThan(MAX_RELATIVE_ERROR);
    },
  );

  it("names the tensor and type when a format has no kernel", async () => {
    await expect(session().call("lab.matmul", { type: GgmlType.IQ2_XXS, rows: 1, cols: 256, weight: new Uint8Array(66), x: new Float32Array(256), numTokens: 1, tokenTile: 1 }))
      .rejects.toThrow(/"lab weight" is IQ2_XXS.*supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS/);
  });
});

describe("embedding lookup", () => {
  it.each(FORMATS.map((type) => ({ type, name: ggmlTypeName(type) })))("$name, table split into chunks of 3 rows", async ({ type, name }) => {
    const rows = 20;
    const cols = colsFor(type, 64, 256);
    const table = quantizedMatrix(type, rows, cols, 11);
    const ids = [0, 19, 5, 3, 3, 17, 8];
    const row = weightRowBytes(type, cols);
    const gpu = await session().call<Float32Array>("lab.embedding", { type, rows, cols, table: table.bytes, ids, maxChunkBytes: 3 * Math.max(row.data, row.scales + 2) });
    const expected = ids.flatMap((id) => Array.from(table.dequantized.subarray(id * cols, (id + 1) * cols)));
    const error = relativeError(gpu, expected);
    worstEmbedding.set(name, error);
    expect(error).toBeLessThan(1e-6);
  });
});

describe("rmsnorm: a workgroup per row (GPUs) or an invocation per row (SwiftShader), the same bits", () => {
  it.each([false, true])("normalizes every row (per row: %s)", async (perRow) => {
    const random = new Random(5);
    const dim = 200;
    const x = random.normals(6 * dim, 3);
    const weight = random.normals(dim, 1, 1);
    const gpu = await session().call<Float32Array>("lab.rmsnorm", { x, weight, dim, eps: 1e-5, numTokens: 6, perRow });
    expect(maxAbsDiff(gpu, rmsnormRef(x, weight, dim, 1e-5, [0, 1, 2, 3, 4, 5]))).toBeLessThan(1e-5);
  });

  it.each([false, true])("gathers only the logit rows (per row: %s)", async (perRow) => {
    const random = new Random(6);
    const dim = 64;
    const x = random.normals(9 * dim);
    const weight = random.normals(dim, 1, 1);
    const gpu = await session().call<Float32Array>("lab.rmsnorm", { x, weight, dim, eps: 1e-6, numTokens: 9, gatherRows: [8, 2, 5], perRow });
    expect(maxAbsDiff(gpu, rmsnormRef(x, weight, dim, 1e-6, [8, 2, 5]))).toBeLessThan(1e-5);
  });

  it.each([1, 32, 128])("an invocation per row gives the workgroup's bits (%i lanes of partial sums; 7 rows, accumulating)", async (lanes) => {
    const random = new Random(7 + lanes);
    const dim = 576;
    const request = { x: random.normals(7 * dim, 4), weight: random.normals(dim, 1, 1), dim, eps: 1e-5, numTokens: 7, y0: random.normals(7 * dim), lanes };
    const workgroup = await session().call<Float32Array>("lab.rmsnorm", { ...request, perRow: false });
    const perRow = await session().call<Float32Array>("lab.rmsnorm", { ...request, perRow: true });
    expect(Array.from(perRow)).toEqual(Array.from(workgroup));
    const normed = rmsnormRef(request.x, request.weight, dim, 1e-5, [0, 1, 2, 3, 4, 5, 6]);
    expect(maxAbsDiff(perRow, Array.from(normed, (v, i) => v + request.y0[i]!))).toBeLessThan(1e-4);
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
