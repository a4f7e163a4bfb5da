// Weights as texels (tuning.weightTexels, SwiftShader's default): Q8_0/Q4_0 quants in rgba32uint textures instead
// of storage buffers, the same bytes (src/model/weight-layout.ts weightTexelShape). Every kernel that reads weights —
// each matmul kernel, its fused epilogues, int8 inputs, the embedding — gives from texels the bits it gives from the
// buffer (the same values in the same sums), which equal the CPU reference within the kernel's bound; chunked
// matrices give each chunk its own texture width. A model decodes the same logits either way and its memory report
// counts the same weight bytes.

import { describe, expect, it } from "vitest";
import { GgmlType, ggmlTypeName } from "../../src/gguf/index.js";
import { Random } from "../../src/gguf/random.js";
import { weightTexelShape } from "../../src/model/weight-layout.js";
import { useBrowserSession } from "../helpers/browser.js";
import { matmulRef } from "./reference.js";
import { expectSameBitsAcrossLayouts, expectSameEmbeddingAcrossLayouts, expectSamePairedGateUpAcrossLayouts, greedyLogits, layoutCases, quantizedMatrix, relativeError, SPLIT_TYPES } from "./split-weights.js";

const session = useBrowserSession();

describe("a texture's shape (CPU)", () => {
  it.each([
    { bytes: 37 * 160, max: 8192, width: 2, height: 185 }, // Q8_0 37 × 160: 370 texels = 2 · 185
    { bytes: 576 * 576, max: 8192, width: 256, height: 81 }, // SmolLM2's q projection: 20736 texels = 2^8 · 81
    { bytes: 49152 * 576, max: 8192, width: 8192, height: 216 }, // its embedding: 2^16 · 27 texels, width capped
    { bytes: 16 * 8192 * 8192, max: 8192, width: 8192, height: 8192 }, // exactly the largest texture
  ])("$bytes bytes, at most $max a side: $width × $height, no texel to spare", ({ bytes, max, width, height }) => {
    const shape = weightTexelShape(bytes, max)!;
    expect(shape).toEqual({ width, height, widthLog2: Math.log2(width) });
    expect(shape.width * shape.height * 16).toBe(bytes);
  });

  it("no shape where the height would exceed the limit, or the bytes are not whole texels", () => {
    expect(weightTexelShape(16 * 2 * 8193, 8192)).toBeUndefined(); // 2 wide, 8193 tall
    expect(weightTexelShape(16 * 3 * 8193, 8192)).toBeUndefined(); // odd texel count beyond one row of the widest texture
    expect(weightTexelShape(16 * 8192 * 8193, 8192)).toBeUndefined();
    expect(weightTexelShape(24, 8192)).toBeUndefined();
    expect(weightTexelShape(0, 8192)).toBeUndefined();
  });
});

describe("every kernel reads Q8_0/Q4_0 quants from texels: the buffer's result bit for bit", () => {
  // one token over 37 rows in groups of 8 (one texture 2 wide for Q8_0); a tile of 4 over 70 rows in chunks of 12,
  // row by row (chunks of 120 texels, 8 wide, and a last of 100, 4 wide — Q4_0: half the texels)
  const cases = layoutCases([
    { numTokens: 1, tokenTile: 1, rows: 37, chunkRows: 0, rowGroup: 8, accumulate: false },
    { numTokens: 7, tokenTile: 4, rows: 70, chunkRows: 12, rowGroup: 1, accumulate: true },
  ]);
  it.each(cases)("$typeName $name, rows=$rows n=$numTokens tile=$tokenTile chunk rows=$chunkRows row group=$rowGroup", (c) =>
    expectSameBitsAcrossLayouts(session(), c, { rowGroup: c.rowGroup, texels: true }, { rowGroup: c.rowGroup, texels: false }));

  it.each(SPLIT_TYPES.map((type) => ({ type, typeName: ggmlTypeName(type) })))("$typeName gate and up paired, int8 inputs, in chunks of 8 rows: the same bits", ({ type }) =>
    expectSamePairedGateUpAcrossLayouts(session(), type, { rowGroup: 8, texels: true }, { rowGroup: 8 }));

  it("a matrix no texture holds exactly (its height beyond the adapter's limit) stays a buffer and multiplies the same", async () => {
    const { limits } = await session().call<{ limits: { maxTextureDimension2D: number } }>("adapter");
    // Q8_0 rows of 32 values: 2 texels a row; an odd row count beyond the limit leaves a texture 2 wide and too tall
    const rows = limits.maxTextureDimension2D + 1 + (limits.maxTextureDimension2D % 2);
    const cols = 32;
    expect(weightTexelShape(rows * cols, limits.maxTextureDimension2D)).toBeUndefined();
    const w = quantizedMatrix(GgmlType.Q8_0, rows, cols, 3);
    const x = new Random(4).normals(cols);
    const request = { type: GgmlType.Q8_0, rows, cols, weight: w.bytes, x, numTokens: 1, tokenTile: 1, kernel: { kind: "rows", rowsPerInvocation: 8, bytesInPlace: true }, rowGroup: 8 };
    const asked = await session().call<Float32Array>("lab.matmul", { ...request, texels: true });
    expect(Array.from(asked)).toEqual(Array.from(await session().call<Float32Array>("lab.matmul", request)));
    expect(relativeError(asked, matmulRef(w.values, rows, cols, x, 1))).toBeLessThan(1e-4);
  }, 60_000);
});

describe("embedding lookup from a table of texels", () => {
  it.each(SPLIT_TYPES.flatMap((type) => [0, 3].map((chunkRows) => ({ type, chunkRows, typeName: ggmlTypeName(type) }))))(
    "$typeName, 20 rows, chunks of $chunkRows rows (0: one chunk)", ({ type, chunkRows }) =>
      expectSameEmbeddingAcrossLayouts(session(), type, chunkRows, { rowGroup: 8, texels: true }, { rowGroup: 8 }),
  );
});

describe("a model's weights as texels (SwiftShader's default)", () => {
  it.each(["stories260K-q8_0.gguf", "stories260K-q4_0.gguf"])("%s: greedy decode's logits and weight bytes those of buffers", async (file) => {
    const fromTexels = await greedyLogits(session(), file, { weightTexels: true });
    const fromBuffers = await greedyLogits(session(), file, { weightTexels: false });
    expect(fromTexels.logits).toHaveLength(24);
    expect(fromTexels.output_ids).toEqual(fromBuffers.output_ids);
    expect(fromTexels.logits.map((row) => Array.from(row))).toEqual(fromBuffers.logits.map((row) => Array.from(row)));
    expect(fromTexels.memory.weights).toEqual(fromBuffers.memory.weights);
    expect(fromTexels.memory.total).toEqual(fromBuffers.memory.total);
  }, 120_000);
});
